"""Need-to-know: who may see which case, and the reads the web app and the API make through it.

A user sees a case only if they hold or held a task in it (claimed or completed one, or an
open task of a role they hold in the case's unit), hold an oversight role for the case's
unit or a unit above it, or administer the system. A case outside that is reported as not
found, never as forbidden, so a guessed reference or task number reveals nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..db.models import Case, CaseEvent, Letter, ProcessVersion, Role, RoleAssignment, Task, Timer, User
from ..domain.calendar import local_date
from ..domain.forms import Form
from ..errors import Forbidden, NotFound
from . import cases, tasks
from .directory import descendant_ids, holds_role, scopes, unit_coded, user_named
from .progress import OPEN, PENDING, working_calendar
from .runtime import Runtime

INBOX_LIMIT = 200
SOON_WORKING_DAYS, SOON_DAYS = 2, 3


@dataclass(frozen=True)
class Principal:
    """A signed-in user and what the system lets them do beyond their cases."""

    username: str
    display_name: str
    is_admin: bool

    @property
    def may_administer(self) -> bool:
        return self.is_admin

    @property
    def may_own_processes(self) -> bool:
        """Process owners deploy new versions; for now that is the administrators."""
        return self.is_admin


def _principal(user: User) -> Principal:
    return Principal(user.username, user.display_name, user.is_admin)


def principal(runtime: Runtime, username: str) -> Principal | None:
    """The active user ``username``, or None."""
    with runtime.reading() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        return _principal(user) if user else None


@cache
def _no_user_hash() -> str:
    """A hash to check when there is no such user, so both answers take as long."""
    return generate_password_hash("no such user")


def check_password(runtime: Runtime, username: str, password: str) -> Principal | None:
    """The active user if ``password`` is theirs, else None (same work either way)."""
    with runtime.reading() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        stored = user.password_hash if user and user.password_hash else _no_user_hash()
        matches = check_password_hash(stored, password)
        return _principal(user) if user and user.password_hash and matches else None


# --- the need-to-know rule -------------------------------------------------------------
def _oversight_units(session: Session, user: User) -> set[int]:
    units = set(session.scalars(select(RoleAssignment.unit_id).join(Role, Role.code == RoleAssignment.role_code)
                                .where(RoleAssignment.user_id == user.id, Role.oversight.is_(True))))
    return descendant_ids(session, units) if units else set()


def _visibility(session: Session, user: User) -> ColumnElement[bool] | None:
    """The condition on ``Case`` rows the user may see; None means every case."""
    if user.is_admin:
        return None
    held = or_(Task.claimed_by_id == user.id, Task.completed_by_id == user.id)
    for_role = [and_(Task.status == OPEN, Task.role == role, Task.unit_id.in_(units))
                for role, units in scopes(session, user).items()]
    through_task = exists().where(Task.case_id == Case.id, or_(held, *for_role))
    oversight = _oversight_units(session, user)
    return or_(through_task, Case.unit_id.in_(oversight)) if oversight else through_task


def _visible(query, session: Session, user: User):
    condition = _visibility(session, user)
    return query if condition is None else query.where(condition)


def visible_case(session: Session, user: User, reference: str) -> Case:
    """The case if the user may see it; NotFound otherwise (whether or not it exists)."""
    case = session.scalar(_visible(select(Case).where(Case.reference == reference), session, user))
    if case is None:
        raise NotFound(f"no case {reference!r}")
    return case


def _visible_task(session: Session, user: User, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None or session.scalar(_visible(select(Case.id).where(Case.id == task.case_id), session, user)) is None:
        raise NotFound(f"no task {task_id}")
    return task


def _procedure_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(ProcessVersion.id, ProcessVersion.name)).all())


def procedures(session: Session) -> list[tuple[str, str]]:
    """(process id, name of its latest version) of every deployed process."""
    names: dict[str, str] = {}
    for process_id, name in session.execute(select(ProcessVersion.process_id, ProcessVersion.name)
                                            .order_by(ProcessVersion.version)):
        names[process_id] = name
    return sorted(names.items(), key=lambda item: item[1])


# --- the inbox ----------------------------------------------------------------------------
@dataclass(frozen=True)
class InboxItem:
    id: int
    case: str
    procedure: str
    name: str
    role: str
    due_on: date | None
    overdue: bool
    due_soon: bool
    claimed_by_me: bool


@dataclass(frozen=True)
class Inbox:
    items: list[InboxItem]
    total: int
    procedures: list[tuple[str, str]]


def _soon_limit(session: Session, now: datetime) -> date:
    today = local_date(now)
    return max(working_calendar(session).add_working_days(today, SOON_WORKING_DAYS), today + timedelta(SOON_DAYS))


def inbox(runtime: Runtime, username: str, *, process_id: str | None = None, overdue_only: bool = False,
          limit: int = INBOX_LIMIT) -> Inbox:
    """The user's claimed tasks and their roles' unclaimed ones, soonest due first."""
    now = runtime.clock.now()
    with runtime.reading() as session:
        user = user_named(session, username)
        query = tasks.inbox_query(session, user).join(Case, Case.id == Task.case_id)
        if process_id:
            query = query.where(Case.process_id == process_id)
        if overdue_only:
            query = query.where(Task.due_at <= now)
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = session.execute(query.with_only_columns(
            Task.id, Case.reference, Case.process_version_id, Task.name, Task.role, Task.due_on, Task.due_at,
            Task.claimed_by_id, maintain_column_froms=True).limit(limit))
        names, soon = _procedure_names(session), _soon_limit(session, now)
        items = []
        for task_id, reference, version_id, name, role, due_on, due_at, claimed_by_id in rows:
            overdue = bool(due_at and due_at <= now)
            items.append(InboxItem(task_id, reference, names[version_id], name, role, due_on, overdue,
                                   bool(due_on and not overdue and due_on <= soon), claimed_by_id == user.id))
        return Inbox(items, total, procedures(session))


# --- a task -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskView:
    id: int
    name: str
    instructions: str
    status: str
    case: str
    case_status: str
    procedure: str
    role: str
    due_on: date | None
    overdue: bool
    claimed_by: str | None
    completed_by: str | None
    submitted: dict[str, Any] | None
    may_claim: bool
    may_unclaim: bool
    may_complete: bool
    form: Form | None


def task_view(runtime: Runtime, username: str, task_id: int) -> TaskView:
    """A task of a case the user may see, with its form when the user may complete it."""
    now = runtime.clock.now()
    with runtime.reading() as session:
        user = user_named(session, username)
        task = _visible_task(session, user, task_id)
        case = task.case
        is_open = task.status == OPEN and case.status == cases.RUNNING
        holder = is_open and holds_role(session, user, task.role, task.unit_id)
        may_complete = holder and task.claimed_by_id in (None, user.id)
        return TaskView(
            id=task.id, name=task.name, instructions=task.instructions, status=task.status, case=case.reference,
            case_status=case.status, procedure=_procedure_names(session)[case.process_version_id], role=task.role,
            due_on=task.due_on, overdue=bool(task.status == OPEN and task.due_at and task.due_at <= now),
            claimed_by=task.claimed_by.username if task.claimed_by else None,
            completed_by=task.completed_by.username if task.completed_by else None, submitted=task.submitted,
            may_claim=holder and task.claimed_by_id is None, may_unclaim=is_open and task.claimed_by_id == user.id,
            may_complete=may_complete, form=tasks.form_of(task) if may_complete else None)


def _check_task(runtime: Runtime, username: str, task_id: int) -> None:
    with runtime.reading() as session:
        _visible_task(session, user_named(session, username), task_id)


def claim_task(runtime: Runtime, username: str, task_id: int) -> None:
    _check_task(runtime, username, task_id)
    tasks.claim(runtime, task_id, username)


def unclaim_task(runtime: Runtime, username: str, task_id: int) -> None:
    _check_task(runtime, username, task_id)
    tasks.unclaim(runtime, task_id, username)


def complete_task(runtime: Runtime, username: str, task_id: int,
                  data: Mapping[str, Any]) -> tasks.TaskSummary | None:
    """Complete a task of a visible case; returns the user's next task in the case, if any."""
    _check_task(runtime, username, task_id)
    return tasks.complete(runtime, task_id, username, data)


# --- a case -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinkedCase:
    reference: str
    procedure: str
    status: str
    next_due: date | None


@dataclass(frozen=True)
class CaseView:
    file: cases.CaseFile
    procedure: str
    parent_visible: bool
    linked: list[LinkedCase]
    holders: dict[str, str]  # username -> display name, for the open tasks
    completed_elements: list[str]
    current_elements: list[str]


def _next_due(session: Session, case_id: int) -> date | None:
    task_due = session.scalar(select(func.min(Task.due_on)).where(Task.case_id == case_id, Task.status == OPEN))
    timer_due = session.scalar(select(func.min(Timer.due_at)).where(Timer.case_id == case_id,
                                                                      Timer.status == PENDING))
    candidates = [d for d in (task_due, local_date(timer_due) if timer_due else None) if d]
    return min(candidates, default=None)


def _linked(session: Session, user: User, case: Case, names: dict[int, str]) -> list[LinkedCase]:
    children = session.scalars(_visible(select(Case).where(Case.parent_case_id == case.id), session, user)
                               .order_by(Case.id))
    return [LinkedCase(c.reference, names[c.process_version_id], c.status, _next_due(session, c.id))
            for c in children]


def _elements(session: Session, case: Case) -> tuple[list[str], list[str]]:
    """Element ids of the steps done and of the steps waiting (open tasks, pending timers)."""
    done = [data["element"] for data in session.scalars(select(CaseEvent.data).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "step")) if data and data.get("element")]
    current = list(session.scalars(select(Task.element_id).where(Task.case_id == case.id, Task.status == OPEN)))
    current += session.scalars(select(Timer.element_id).where(Timer.case_id == case.id, Timer.status == PENDING))
    return sorted(set(done) - set(current)), sorted(set(current))


def case_view(runtime: Runtime, username: str, reference: str) -> CaseView:
    """Everything the case file page shows, for a user who may see the case."""
    with runtime.reading() as session:
        user = user_named(session, username)
        case = visible_case(session, user, reference)
        names = _procedure_names(session)
        parent_visible = bool(case.parent_case_id) and session.scalar(
            _visible(select(Case.id).where(Case.id == case.parent_case_id), session, user)) is not None
        holders = dict(session.execute(select(User.username, User.display_name).join(
            Task, Task.claimed_by_id == User.id).where(Task.case_id == case.id, Task.status == OPEN)).all())
        done, current = _elements(session, case)
        view = dict(procedure=names[case.process_version_id], parent_visible=parent_visible,
                    linked=_linked(session, user, case, names), holders=holders,
                    completed_elements=done, current_elements=current)
    return CaseView(file=case_file(runtime, username, reference), **view)


def case_diagram(runtime: Runtime, username: str, reference: str) -> bytes:
    """The BPMN source of the version the case runs on."""
    with runtime.reading() as session:
        case = visible_case(session, user_named(session, username), reference)
        return session.scalar(select(ProcessVersion.source_xml).where(ProcessVersion.id == case.process_version_id))


@dataclass(frozen=True)
class LetterView:
    id: int
    case: str
    title: str
    body: str
    created_at: datetime


def letter(runtime: Runtime, username: str, reference: str, letter_id: int) -> LetterView:
    with runtime.reading() as session:
        case = visible_case(session, user_named(session, username), reference)
        row = session.scalar(select(Letter).where(Letter.id == letter_id, Letter.case_id == case.id))
        if row is None:
            raise NotFound(f"no letter {letter_id} in {reference}")
        return LetterView(row.id, case.reference, row.title, row.body, row.created_at)


# --- cases for integrations ---------------------------------------------------------------
def visible_cases(runtime: Runtime, username: str, *, status: str | None = None, limit: int = 100,
                  offset: int = 0) -> list[cases.CaseSummary]:
    """The cases the user may see, newest first."""
    with runtime.reading() as session:
        user = user_named(session, username)
        query = _visible(select(Case), session, user)
        if status:
            query = query.where(Case.status == status)
        rows = session.scalars(query.order_by(Case.id.desc()).limit(limit).offset(offset)).all()
        parents = dict(session.execute(select(Case.id, Case.reference).where(
            Case.id.in_({c.parent_case_id for c in rows if c.parent_case_id}))).all())
        return [cases.summary_of(c, parents.get(c.parent_case_id)) for c in rows]


def check_case(runtime: Runtime, username: str, reference: str) -> None:
    """NotFound unless the user may see the case."""
    with runtime.reading() as session:
        visible_case(session, user_named(session, username), reference)


def case_file(runtime: Runtime, username: str, reference: str) -> cases.CaseFile:
    """The file of a case the user may see, listing only the linked cases they may see too."""
    with runtime.reading() as session:
        user = user_named(session, username)
        case = visible_case(session, user, reference)
        children = set(session.scalars(_visible(select(Case.reference).where(Case.parent_case_id == case.id),
                                                session, user)))
    file = cases.case_file(runtime, reference)
    return replace(file, linked=[summary for summary in file.linked if summary.reference in children])


def start_case(runtime: Runtime, username: str, process_id: str, variables: Mapping[str, Any], *,
               unit: str | None = None, parent: str | None = None) -> cases.CaseSummary:
    """Start a case: administrators anywhere, others in a unit where they hold a role.

    A linked case needs a parent case the user may see.
    """
    with runtime.reading() as session:
        user = user_named(session, username)
        parent_case = visible_case(session, user, parent) if parent else None
        unit_id = unit_coded(session, unit).id if unit else (
            parent_case.unit_id if parent_case else unit_coded(session, cases.DEFAULT_UNIT).id)
        if not user.is_admin and not any(unit_id in units for units in scopes(session, user).values()):
            raise Forbidden(f"{username} holds no role in that unit and may not start cases there")
    return cases.start_case(runtime, process_id, variables, by=username, unit=unit, parent=parent)


def deliver_message(runtime: Runtime, username: str, reference: str, name: str,
                    payload: Mapping[str, Any]) -> None:
    """Deliver a message to a case the user may see (integrations report outside events)."""
    check_case(runtime, username, reference)
    cases.deliver_message(runtime, reference, name, payload, by=username)
