"""Demo organisation: units and one user per role, password ``demo`` (development only)."""
from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..db.models import RoleAssignment, Unit, User
from .directory import ensure_roles
from .runtime import Runtime

UNITS = (("university", "The University", None), ("downing", "Downing College", "university"),
         ("emmanuel", "Emmanuel College", "university"), ("chemistry", "Department of Chemistry", "university"))
COLLEGE_ROLES = ("senior_tutor", "master", "college_tutor", "dean", "pastoral_lead", "gpc_secretary", "review_panel")
DEPARTMENT_ROLES = ("head_of_department", "mediator")
CENTRAL_ROLES = ("caseworker", "investigator", "hr_director", "dswss", "registrar", "proctor",
                 "disciplinary_panel", "appeals_panel")
#: (username, display name, role, unit)
DEMO_USERS = (
    *[(role, role.replace("_", " ").title(), role, "downing") for role in COLLEGE_ROLES],
    *[(role, role.replace("_", " ").title(), role, "chemistry") for role in DEPARTMENT_ROLES],
    *[(role, role.replace("_", " ").title(), role, "university") for role in CENTRAL_ROLES],
    ("emmanuel_senior_tutor", "Emmanuel Senior Tutor", "senior_tutor", "emmanuel"),
)
DEMO_PASSWORD = "demo"


def seed_organisation(runtime: Runtime) -> bool:
    """Create the demo units, users and role assignments once; False if already there."""
    with runtime.transaction() as session:
        ensure_roles(session)
        if session.scalar(select(Unit.id).where(Unit.code == "university")) is not None:
            return False
        units = {}
        for code, name, parent in UNITS:
            units[code] = Unit(code=code, name=name, parent=units.get(parent))
            session.add(units[code])
        password = generate_password_hash(DEMO_PASSWORD)
        session.add(User(username="admin", display_name="Administrator", password_hash=password, is_admin=True))
        for username, name, role, unit in DEMO_USERS:
            user = User(username=username, display_name=name, password_hash=password,
                        email=f"{username}@example.ac.uk")
            session.add(user)
            session.flush()
            session.add(RoleAssignment(user_id=user.id, role_code=role, unit_id=units[unit].id))
        return True
