"""Need-to-know: which cases and tasks a principal may see, decided on the session of the use case.

A user sees a case only if they hold or held a task in it (claimed or completed one, or an
open task of a role they hold in the case's unit), hold an oversight role for the case's
unit or a unit above it, started it, or administer the system. A case outside that is
reported as not found, never as forbidden, so a guessed reference or task number reveals
nothing. System actors (the scheduler, an operator's ``--system``) see every case.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from ..db.models import Case, Role, RoleAssignment, Task, User
from ..domain.principals import Principal
from ..domain.status import TaskStatus
from ..errors import Forbidden, NotFound
from .directory import descendant_ids, scopes, user_named


def acting_user(session: Session, actor: Principal) -> User | None:
    """The active user row behind ``actor`` (None for a system actor); NotFound if deactivated."""
    return None if actor.is_system else user_named(session, actor.username)


def _oversight_units(session: Session, user: User) -> set[int]:
    units = set(session.scalars(select(RoleAssignment.unit_id).join(Role, Role.code == RoleAssignment.role_code)
                                .where(RoleAssignment.user_id == user.id, Role.oversight.is_(True))))
    return descendant_ids(session, units) if units else set()


def visibility(session: Session, actor: Principal) -> ColumnElement[bool] | None:
    """The condition on ``Case`` rows the actor may see; None means every case."""
    user = acting_user(session, actor)
    if user is None or user.is_admin:
        return None
    held = or_(Task.claimed_by_id == user.id, Task.completed_by_id == user.id)
    for_role = [and_(Task.status == TaskStatus.OPEN, Task.role == role, Task.unit_id.in_(units))
                for role, units in scopes(session, user).items()]
    seen = [exists().where(Task.case_id == Case.id, or_(held, *for_role)), Case.started_by == user.username]
    oversight = _oversight_units(session, user)
    if oversight:
        seen.append(Case.unit_id.in_(oversight))
    return or_(*seen)


def only_visible(query: Select, session: Session, actor: Principal) -> Select:
    condition = visibility(session, actor)
    return query if condition is None else query.where(condition)


def visible_case(session: Session, actor: Principal, reference: str, *, lock: bool = False) -> Case:
    """The case if the actor may see it; NotFound otherwise (whether or not it exists)."""
    query = only_visible(select(Case).where(Case.reference == reference), session, actor)
    case = session.scalar(query.with_for_update(of=Case) if lock else query)
    if case is None:
        raise NotFound(f"no case {reference!r}")
    return case


def visible_task(session: Session, actor: Principal, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None or session.scalar(only_visible(select(Case.id).where(Case.id == task.case_id),
                                                   session, actor)) is None:
        raise NotFound(f"no task {task_id}")
    return task


def require_administrator(actor: Principal, what: str) -> None:
    if not actor.may_administer:
        raise Forbidden(f"only administrators can {what}")


def administered_case(session: Session, actor: Principal, reference: str) -> Case:
    """A case for an administrators' action: NotFound to those who may not see it, Forbidden to others."""
    case = visible_case(session, actor, reference)
    require_administrator(actor, "act on a case in the administrators' console")
    return case
