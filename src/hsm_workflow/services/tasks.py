"""Human tasks: the inbox, claiming, and completing with validated form data."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, joinedload

from ..db.models import Case, Task, User
from ..domain.forms import Form, FormValidationError, parse_form, validate_submission
from ..domain.principals import Principal
from ..domain.status import TaskStatus
from ..errors import Conflict, Forbidden, InvalidData
from .cases import CaseWork, require_running
from .directory import roles_held, scopes
from .progress import record
from .visibility import acting_user, visible_task
from .runtime import Runtime


@dataclass(frozen=True)
class TaskSummary:
    id: int
    case: str
    process_id: str
    name: str
    role: str
    due_on: date | None
    due_at: datetime | None
    claimed_by: str | None
    overdue: bool


def _summary(task: Task, now: datetime) -> TaskSummary:
    return TaskSummary(task.id, task.case.reference, task.case.process_id, task.name, task.role, task.due_on,
                       task.due_at, task.claimed_by.username if task.claimed_by else None,
                       bool(task.due_at and task.due_at <= now))


def inbox_query(session: Session, user: User):
    """Open tasks the user holds, and unclaimed ones of the user's roles and units."""
    allowed = [and_(Task.role == role, Task.unit_id.in_(units)) for role, units in scopes(session, user).items()]
    mine = Task.claimed_by_id == user.id
    visible = or_(mine, and_(Task.claimed_by_id.is_(None), or_(*allowed))) if allowed else mine
    return select(Task).where(Task.status == TaskStatus.OPEN, visible).order_by(Task.due_at.is_(None), Task.due_at, Task.id)


def list_tasks(runtime: Runtime, actor: Principal, limit: int = 500) -> list[TaskSummary]:
    """The actor's inbox; every open task for administrators and system actors."""
    with runtime.reading() as session:
        user = acting_user(session, actor)
        query = inbox_query(session, user) if user is not None and not actor.may_administer else \
            select(Task).where(Task.status == TaskStatus.OPEN).order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        query = query.options(joinedload(Task.case), joinedload(Task.claimed_by)).limit(limit)
        now = runtime.clock.now()
        return [_summary(task, now) for task in session.scalars(query)]


def _check_actor(session: Session, task: Task, user: User) -> set[str]:
    """Refuse unless ``user`` may act on the open task of a running case; returns the roles they hold there."""
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task {task.id} is already {task.status}")
    require_running(task.case)
    held = roles_held(session, user, task.unit_id)
    if task.role not in held:
        raise Forbidden(f"{user.username} does not hold the role {task.role!r} for task {task.id}")
    if task.claimed_by_id not in (None, user.id):
        raise Conflict(f"task {task.id} is claimed by {task.claimed_by.username}")
    return held


def _task_user(session: Session, actor: Principal, task_id: int) -> tuple[Task, User]:
    task = visible_task(session, actor, task_id)
    user = acting_user(session, actor)
    if user is None:
        raise Forbidden("a human task is claimed and completed by a person, not by a system actor")
    return task, user


def claim(runtime: Runtime, actor: Principal, task_id: int) -> bool:
    """Claim an open task; False (and nothing recorded) when the actor holds it already.

    Of two people claiming at once, one wins; the other gets Conflict and nothing is recorded.
    """
    with runtime.transaction() as session:
        task, user = _task_user(session, actor, task_id)
        _check_actor(session, task, user)
        if task.claimed_by_id == user.id:
            return False
        claimed = session.execute(update(Task).where(Task.id == task.id, Task.status == TaskStatus.OPEN,
                                                     Task.claimed_by_id.is_(None))
                                  .values(claimed_by_id=user.id).execution_options(synchronize_session=False)
                                  ).rowcount
        if claimed != 1:
            raise Conflict(f"task {task.id} was claimed by someone else a moment ago")
        record(session, task.case, runtime.clock.now(), user.username, "claim", f"Task claimed: {task.name}")
        return True


def unclaim(runtime: Runtime, actor: Principal, task_id: int) -> None:
    with runtime.transaction() as session:
        task, user = _task_user(session, actor, task_id)
        if task.status != TaskStatus.OPEN or task.claimed_by_id != user.id:
            raise Conflict(f"task {task.id} is not an open task claimed by {user.username}")
        task.claimed_by_id = None
        record(session, task.case, runtime.clock.now(), user.username, "unclaim", f"Task released: {task.name}")


def form_of(task: Task) -> Form:
    """The task's form as deployed with the case's process version."""
    return _parsed_form(task.case.process_version.assets["forms"][task.form_id], task.form_id)


@lru_cache(maxsize=512)
def _parsed_form(source: str, form_id: str) -> Form:
    return parse_form(source, f"forms/{form_id}.form")


def complete(runtime: Runtime, actor: Principal, task_id: int, data: Mapping[str, Any]) -> TaskSummary | None:
    """Complete a task of a visible case; returns the actor's next open task in the case, if any."""
    with runtime.transaction() as session:
        task, user = _task_user(session, actor, task_id)
        held = _check_actor(session, task, user)
        case = task.case
        try:
            clean = validate_submission(form_of(task), data)
        except FormValidationError as error:
            raise InvalidData(str(error), error.errors) from error
        work = CaseWork(runtime, session)
        instance = work.stepper.load(case)
        record(session, case, work.stepper.now, user.username, "task", f"Task completed: {task.name}",
               {"data": clean})
        task.status, task.completed_by_id = TaskStatus.COMPLETED, user.id
        task.completed_at, task.submitted = work.stepper.now, clean
        work.step(case, instance, lambda i: i.complete_user_task(task.engine_task_id, clean), user.username)
        return _next_for(session, user, held, case, runtime.clock.now())


def _next_for(session: Session, user: User, held: set[str], case: Case, now: datetime) -> TaskSummary | None:
    """The user's next open task in the case (roles held in the case's unit)."""
    task = session.scalar(select(Task).where(
        Task.case_id == case.id, Task.status == TaskStatus.OPEN, Task.role.in_(held),
        or_(Task.claimed_by_id.is_(None), Task.claimed_by_id == user.id))
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id).limit(1))
    return _summary(task, now) if task else None
