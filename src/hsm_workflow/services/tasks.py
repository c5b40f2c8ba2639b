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
from ..errors import Conflict, Forbidden, InvalidData, NotFound
from .cases import CaseWork, require_running
from .directory import roles_held, scopes, user_named
from .progress import DONE, OPEN, record
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
    return select(Task).where(Task.status == OPEN, visible).order_by(Task.due_at.is_(None), Task.due_at, Task.id)


def list_tasks(runtime: Runtime, username: str | None = None, limit: int = 500) -> list[TaskSummary]:
    """The user's inbox, or every open task when no user is given (administrators)."""
    with runtime.reading() as session:
        query = inbox_query(session, user_named(session, username)) if username else \
            select(Task).where(Task.status == OPEN).order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        query = query.options(joinedload(Task.case), joinedload(Task.claimed_by)).limit(limit)
        now = runtime.clock.now()
        return [_summary(task, now) for task in session.scalars(query)]


def _task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task


def _check_actor(session: Session, task: Task, user: User) -> set[str]:
    """Refuse unless ``user`` may act on the open task; returns the roles they hold there."""
    if task.status != OPEN:
        raise Conflict(f"task {task.id} is already {task.status}")
    held = roles_held(session, user, task.unit_id)
    if task.role not in held:
        raise Forbidden(f"{user.username} does not hold the role {task.role!r} for task {task.id}")
    if task.claimed_by_id not in (None, user.id):
        raise Conflict(f"task {task.id} is claimed by {task.claimed_by.username}")
    return held


def claim(runtime: Runtime, task_id: int, username: str) -> None:
    with runtime.transaction() as session:
        task, user = _task(session, task_id), user_named(session, username)
        _check_actor(session, task, user)
        claimed = session.execute(update(Task).where(Task.id == task.id, Task.status == OPEN,
                                                     Task.claimed_by_id.is_(None))
                                  .values(claimed_by_id=user.id)).rowcount
        if claimed != 1 and task.claimed_by_id != user.id:
            raise Conflict(f"task {task.id} was claimed by someone else")
        record(session, task.case, runtime.clock.now(), username, "claim", f"Task claimed: {task.name}")


def unclaim(runtime: Runtime, task_id: int, username: str) -> None:
    with runtime.transaction() as session:
        task, user = _task(session, task_id), user_named(session, username)
        if task.claimed_by_id != user.id:
            raise Conflict(f"task {task.id} is not claimed by {username}")
        task.claimed_by_id = None
        record(session, task.case, runtime.clock.now(), username, "unclaim", f"Task released: {task.name}")


def form_of(task: Task) -> Form:
    """The task's form as deployed with the case's process version."""
    return _parsed_form(task.case.process_version.assets["forms"][task.form_id], task.form_id)


@lru_cache(maxsize=512)
def _parsed_form(source: str, form_id: str) -> Form:
    return parse_form(source, f"forms/{form_id}.form")


def complete(runtime: Runtime, task_id: int, username: str, data: Mapping[str, Any]) -> TaskSummary | None:
    """Complete a task; returns the user's next open task in the same case, if any."""
    with runtime.transaction() as session:
        task, user = _task(session, task_id), user_named(session, username)
        held = _check_actor(session, task, user)
        case = task.case
        require_running(case)
        try:
            clean = validate_submission(form_of(task), data)
        except FormValidationError as error:
            raise InvalidData(str(error), error.errors) from error
        work = CaseWork(runtime, session)
        instance = work.stepper.load(case)
        record(session, case, work.stepper.now, username, "task", f"Task completed: {task.name}", {"data": clean})
        task.status, task.completed_by_id, task.completed_at, task.submitted = DONE, user.id, work.stepper.now, clean
        work.step(case, instance, lambda i: i.complete_user_task(task.engine_task_id, clean), username)
        return _next_for(session, user, held, case, runtime.clock.now())


def _next_for(session: Session, user: User, held: set[str], case: Case, now: datetime) -> TaskSummary | None:
    """The user's next open task in the case (roles held in the case's unit)."""
    task = session.scalar(select(Task).where(
        Task.case_id == case.id, Task.status == OPEN, Task.role.in_(held),
        or_(Task.claimed_by_id.is_(None), Task.claimed_by_id == user.id))
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id).limit(1))
    return _summary(task, now) if task else None
