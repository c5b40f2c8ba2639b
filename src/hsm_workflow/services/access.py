"""What a principal may read: the inbox, a task, a case file, its letters and diagram.

Every read takes the acting :class:`Principal` and applies the need-to-know rule of
:mod:`.visibility` in the same session. Signing in (:func:`check_password`) lives here too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..db.models import Case, CaseEvent, Letter, ProcessVersion, Task, Timer, User
from ..domain.calendar import local_date
from ..domain.forms import Form
from ..domain.principals import Principal
from ..domain.status import CaseStatus, TaskStatus, TimerStatus
from ..errors import NotFound
from . import tasks
from .cases import CaseSummary, summary_of
from .directory import holds_role
from .progress import working_calendar
from .runtime import Runtime
from .visibility import acting_user, only_visible, visible_case, visible_task

INBOX_LIMIT = 200
SOON_WORKING_DAYS, SOON_DAYS = 2, 3


def principal_of(user: User) -> Principal:
    return Principal(user.username, user.display_name, user.is_admin)


def principal(runtime: Runtime, username: str) -> Principal | None:
    """The active user ``username``, or None."""
    with runtime.reading() as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        return principal_of(user) if user else None


@cache
def _no_user_hash() -> str:
    """A hash to check when there is no such user, so both answers take as long."""
    return generate_password_hash("no such user")


def check_password(session: Session, username: str, password: str) -> User | None:
    """The active user if ``password`` is theirs, else None (same work either way).

    It takes the session of the sign-in use case (:mod:`.sessions`), which records the
    attempt and starts the web session in the same transaction.
    """
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    stored = user.password_hash if user and user.password_hash else _no_user_hash()
    matches = check_password_hash(stored, password)
    return user if user and user.password_hash and matches else None




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


def inbox(runtime: Runtime, actor: Principal, *, process_id: str | None = None, overdue_only: bool = False,
          limit: int = INBOX_LIMIT) -> Inbox:
    """The actor's claimed tasks and their roles' unclaimed ones, soonest due first."""
    now = runtime.clock.now()
    with runtime.reading() as session:
        user = acting_user(session, actor)
        if user is None:
            return Inbox([], 0, procedures(session))
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
    status: TaskStatus
    case: str
    case_status: CaseStatus
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


def task_view(runtime: Runtime, actor: Principal, task_id: int) -> TaskView:
    """A task of a case the actor may see, with its form when the actor may complete it."""
    now = runtime.clock.now()
    with runtime.reading() as session:
        task = visible_task(session, actor, task_id)
        user = acting_user(session, actor)
        case = task.case
        is_open = task.status == TaskStatus.OPEN and case.status == CaseStatus.RUNNING
        holder = is_open and user is not None and holds_role(session, user, task.role, task.unit_id)
        may_complete = holder and task.claimed_by_id in (None, user.id)
        return TaskView(
            id=task.id, name=task.name, instructions=task.instructions, status=task.status, case=case.reference,
            case_status=case.status, procedure=_procedure_names(session)[case.process_version_id], role=task.role,
            due_on=task.due_on, overdue=bool(task.status == TaskStatus.OPEN and task.due_at and task.due_at <= now),
            claimed_by=task.claimed_by.username if task.claimed_by else None,
            completed_by=task.completed_by.username if task.completed_by else None, submitted=task.submitted,
            may_claim=holder and task.claimed_by_id is None,
            may_unclaim=is_open and user is not None and task.claimed_by_id == user.id,
            may_complete=may_complete, form=tasks.form_of(task) if may_complete else None)


# --- a case -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskEntry:
    id: int
    name: str
    element: str
    role: str
    status: TaskStatus
    due_on: date | None
    claimed_by: str | None
    completed_by: str | None


@dataclass(frozen=True)
class TimerEntry:
    name: str
    element: str
    due_at: datetime
    status: TimerStatus


@dataclass(frozen=True)
class LetterEntry:
    id: int
    template: str
    title: str
    created_at: datetime
    body: str


@dataclass(frozen=True)
class EventEntry:
    at: datetime
    actor: str
    kind: str
    summary: str


@dataclass(frozen=True)
class CaseFile:
    summary: CaseSummary
    title: str
    tasks: list[TaskEntry]
    timers: list[TimerEntry]
    letters: list[LetterEntry]
    events: list[EventEntry]
    linked: list[CaseSummary]  # only those the reader may see
    error: str | None


def _file_of(session: Session, actor: Principal, case: Case) -> CaseFile:
    parent = session.get(Case, case.parent_case_id) if case.parent_case_id else None
    entries = [TaskEntry(t.id, t.name, t.element_id, t.role, t.status, t.due_on,
                         t.claimed_by.username if t.claimed_by else None,
                         t.completed_by.username if t.completed_by else None)
               for t in session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.id))]
    timers = [TimerEntry(t.name, t.element_id, t.due_at, t.status)
              for t in session.scalars(select(Timer).where(Timer.case_id == case.id).order_by(Timer.id))]
    letters = [LetterEntry(row.id, row.template, row.title, row.created_at, row.body)
               for row in session.scalars(select(Letter).where(Letter.case_id == case.id).order_by(Letter.id))]
    events = [EventEntry(e.at, e.actor, e.kind, e.summary)
              for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]
    linked = [summary_of(c, case.reference) for c in session.scalars(
        only_visible(select(Case).where(Case.parent_case_id == case.id), session, actor).order_by(Case.id))]
    return CaseFile(summary_of(case, parent.reference if parent else None), case.title, entries, timers,
                    letters, events, linked, case.error)


def case_file(runtime: Runtime, actor: Principal, reference: str) -> CaseFile:
    """The file of a case the actor may see."""
    with runtime.reading() as session:
        return _file_of(session, actor, visible_case(session, actor, reference))


@dataclass(frozen=True)
class LinkedCase:
    reference: str
    procedure: str
    status: CaseStatus
    next_due: date | None


@dataclass(frozen=True)
class CaseView:
    file: CaseFile
    procedure: str
    parent_visible: bool
    linked: list[LinkedCase]
    holders: dict[str, str]  # username -> display name, for the open tasks
    completed_elements: list[str]
    current_elements: list[str]


def _next_due(session: Session, case_id: int) -> date | None:
    task_due = session.scalar(select(func.min(Task.due_on)).where(Task.case_id == case_id,
                                                                    Task.status == TaskStatus.OPEN))
    timer_due = session.scalar(select(func.min(Timer.due_at)).where(Timer.case_id == case_id,
                                                                      Timer.status == TimerStatus.PENDING))
    candidates = [d for d in (task_due, local_date(timer_due) if timer_due else None) if d]
    return min(candidates, default=None)


def _elements(session: Session, case: Case) -> tuple[list[str], list[str]]:
    """Element ids of the steps done and of the steps waiting (open tasks, pending timers)."""
    done = [data["element"] for data in session.scalars(select(CaseEvent.data).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "step")) if data and data.get("element")]
    current = list(session.scalars(select(Task.element_id).where(Task.case_id == case.id,
                                                                 Task.status == TaskStatus.OPEN)))
    current += session.scalars(select(Timer.element_id).where(Timer.case_id == case.id,
                                                              Timer.status == TimerStatus.PENDING))
    return sorted(set(done) - set(current)), sorted(set(current))


def case_view(runtime: Runtime, actor: Principal, reference: str) -> CaseView:
    """Everything the case file page shows, for an actor who may see the case."""
    with runtime.reading() as session:
        case = visible_case(session, actor, reference)
        names = _procedure_names(session)
        parent_visible = bool(case.parent_case_id) and session.scalar(
            only_visible(select(Case.id).where(Case.id == case.parent_case_id), session, actor)) is not None
        holders = dict(session.execute(select(User.username, User.display_name).join(
            Task, Task.claimed_by_id == User.id).where(Task.case_id == case.id,
                                                       Task.status == TaskStatus.OPEN)).all())
        file = _file_of(session, actor, case)
        linked = [LinkedCase(c.reference, names[c.process_version_id], c.status, _next_due(session, c.id))
                  for c in session.scalars(only_visible(select(Case).where(Case.parent_case_id == case.id),
                                                        session, actor).order_by(Case.id))]
        done, current = _elements(session, case)
        return CaseView(file, names[case.process_version_id], parent_visible, linked, holders, done, current)


def case_diagram(runtime: Runtime, actor: Principal, reference: str) -> bytes:
    """The BPMN source of the version the case runs on."""
    with runtime.reading() as session:
        case = visible_case(session, actor, reference)
        return session.scalar(select(ProcessVersion.source_xml).where(ProcessVersion.id == case.process_version_id))


@dataclass(frozen=True)
class LetterView:
    id: int
    case: str
    title: str
    body: str
    created_at: datetime


def letter(runtime: Runtime, actor: Principal, reference: str, letter_id: int) -> LetterView:
    with runtime.reading() as session:
        case = visible_case(session, actor, reference)
        row = session.scalar(select(Letter).where(Letter.id == letter_id, Letter.case_id == case.id))
        if row is None:
            raise NotFound(f"no letter {letter_id} in {reference}")
        return LetterView(row.id, case.reference, row.title, row.body, row.created_at)


def visible_cases(runtime: Runtime, actor: Principal, *, status: CaseStatus | None = None, limit: int = 100,
                  offset: int = 0) -> list[CaseSummary]:
    """The cases the actor may see, newest first."""
    with runtime.reading() as session:
        query = only_visible(select(Case), session, actor)
        if status:
            query = query.where(Case.status == status)
        rows = session.scalars(query.order_by(Case.id.desc()).limit(limit).offset(offset)).all()
        parents = dict(session.execute(select(Case.id, Case.reference).where(
            Case.id.in_({c.parent_case_id for c in rows if c.parent_case_id}))).all())
        return [summary_of(c, parents.get(c.parent_case_id)) for c in rows]
