"""People, roles and organisational units; who may act on which task."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Role, RoleAssignment, Unit, User
from ..domain.roles import ROLES
from ..errors import HsmError, NotFound
from .runtime import Runtime


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    parent: str | None = None


def ensure_roles(session: Session) -> None:
    """Insert the built-in roles that are missing (titles of existing ones are kept)."""
    existing = set(session.scalars(select(Role.code)))
    for role in ROLES:
        if role.code not in existing:
            session.add(Role(code=role.code, title=role.title, oversight=role.oversight))


def role_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Role.code)))


def user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise NotFound(f"no active user {username!r}")
    return user


def unit_coded(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"no organisational unit {code!r}")
    return unit


def ancestor_ids(session: Session, unit_id: int) -> list[int]:
    """The unit and the units above it."""
    parents = dict(session.execute(select(Unit.id, Unit.parent_id)).all())
    chain, current = [], unit_id
    while current is not None:
        chain.append(current)
        current = parents.get(current)
    return chain


def descendant_ids(session: Session, unit_ids: set[int]) -> set[int]:
    """The units and every unit below them."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    found, stack = set(), list(unit_ids)
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


def roles_held(session: Session, user: User, unit_id: int) -> set[str]:
    """The roles ``user`` holds in the unit or a unit above it."""
    return set(session.scalars(select(RoleAssignment.role_code).where(
        RoleAssignment.user_id == user.id, RoleAssignment.unit_id.in_(ancestor_ids(session, unit_id)))))


def holds_role(session: Session, user: User, role: str, unit_id: int) -> bool:
    """Whether ``user`` holds ``role`` in the unit or a unit above it."""
    return role in roles_held(session, user, unit_id)


def candidates(session: Session, role: str, unit_id: int) -> list[User]:
    """The users who may act on a task of ``role`` in the unit."""
    return list(session.scalars(select(User).join(RoleAssignment, RoleAssignment.user_id == User.id).where(
        RoleAssignment.role_code == role, RoleAssignment.unit_id.in_(ancestor_ids(session, unit_id)),
        User.active.is_(True)).distinct().order_by(User.username)))


def scopes(session: Session, user: User) -> dict[str, set[int]]:
    """For each role the user holds, the units (with descendants) where it applies."""
    held: dict[str, set[int]] = {}
    for role, unit_id in session.execute(select(RoleAssignment.role_code, RoleAssignment.unit_id)
                                         .where(RoleAssignment.user_id == user.id)):
        held.setdefault(role, set()).add(unit_id)
    return {role: descendant_ids(session, units) for role, units in held.items()}


def add_unit(runtime: Runtime, spec: UnitSpec) -> None:
    with runtime.transaction() as session:
        parent = unit_coded(session, spec.parent).id if spec.parent else None
        session.add(Unit(code=spec.code, name=spec.name, parent_id=parent))


def add_user(runtime: Runtime, username: str, display_name: str, *, email: str | None = None,
             password_hash: str | None = None, is_admin: bool = False) -> None:
    with runtime.transaction() as session:
        session.add(User(username=username, display_name=display_name, email=email,
                         password_hash=password_hash, is_admin=is_admin))


def assign_role(runtime: Runtime, username: str, role: str, unit: str) -> None:
    with runtime.transaction() as session:
        if role not in role_codes(session):
            raise HsmError(f"no role {role!r}")
        session.add(RoleAssignment(user_id=user_named(session, username).id, role_code=role,
                                   unit_id=unit_coded(session, unit).id))
