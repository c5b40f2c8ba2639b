"""The administrators' console and the process owners' page: finding cases, acting on them
with a logged reason, and the deployed processes with the cases on each version."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ..db.models import Case, ProcessVersion, Task, Timer, Unit
from ..domain.principals import Principal
from ..domain.status import CaseStatus, TaskStatus, TimerStatus
from ..errors import Conflict, Forbidden, InvalidData, NotFound
from . import deployment
from .access import procedures
from .cases import require_reason
from .directory import candidates
from .progress import Stepper, record
from .runtime import Runtime
from .visibility import administered_case, require_administrator

PAGE_SIZE = 50


# --- finding cases ------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseRow:
    reference: str
    procedure: str
    unit: str
    title: str
    status: str
    started_at: datetime
    next_due: date | None
    overdue: bool
    next_timer: datetime | None


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    total: int
    page: int
    pages: int
    procedures: list[tuple[str, str]]


def list_cases(runtime: Runtime, actor: Principal, *, process_id: str | None = None, status: str | None = None,
               overdue: bool = False, waiting: bool = False, page: int = 1, per_page: int = PAGE_SIZE) -> CasePage:
    """Cases filtered by procedure, status, an overdue task or a pending timer; newest first."""
    require_administrator(actor, "use the administrators' console")
    now = runtime.clock.now()
    next_due = select(func.min(Task.due_on)).where(Task.case_id == Case.id, Task.status == TaskStatus.OPEN).scalar_subquery()
    late = exists().where(Task.case_id == Case.id, Task.status == TaskStatus.OPEN, Task.due_at <= now)
    next_timer = select(func.min(Timer.due_at)).where(Timer.case_id == Case.id,
                                                        Timer.status == TimerStatus.PENDING).scalar_subquery()
    query = select(Case.reference, ProcessVersion.name, Unit.name, Case.title, Case.status, Case.started_at,
                   next_due, late, next_timer).join(Unit, Unit.id == Case.unit_id) \
        .join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
    if process_id:
        query = query.where(Case.process_id == process_id)
    if status:
        query = query.where(Case.status == status)
    if overdue:
        query = query.where(late)
    if waiting:
        query = query.where(exists().where(Timer.case_id == Case.id, Timer.status == TimerStatus.PENDING))
    with runtime.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        pages = max(1, -(-total // per_page))
        page = min(max(page, 1), pages)
        rows = [CaseRow(*row[:7], bool(row[7]), row[8]) for row in session.execute(
            query.order_by(Case.id.desc()).limit(per_page).offset((page - 1) * per_page))]
        return CasePage(rows, total, page, pages, procedures(session))


# --- one case -----------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenTask:
    id: int
    name: str
    role: str
    due_on: date | None
    claimed_by: str | None
    candidates: list[tuple[str, str]]  # (username, display name) of those who hold the role


@dataclass(frozen=True)
class AdminCase:
    reference: str
    procedure: str
    title: str
    status: str
    error: str | None
    timers: list[tuple[str, datetime]]  # pending: (name, due at)
    tasks: list[OpenTask]
    waiting_messages: list[tuple[str, list[str]]]  # (message, roles that deliver it); runtime-only ones left out


def _waiting_messages(runtime: Runtime, session: Session, case: Case) -> list[tuple[str, list[str]]]:
    if case.status not in (CaseStatus.RUNNING, CaseStatus.ERROR):
        return []
    waiting = Stepper(runtime, session).load(case).waiting_messages()
    return [(name, sorted(roles)) for name, roles in sorted(waiting.items()) if roles]


def admin_case(runtime: Runtime, actor: Principal, reference: str) -> AdminCase:
    with runtime.reading() as session:
        case = administered_case(session, actor, reference)
        timers = [(name, due_at) for name, due_at in session.execute(select(Timer.name, Timer.due_at).where(
            Timer.case_id == case.id, Timer.status == TimerStatus.PENDING).order_by(Timer.due_at))]
        open_tasks = [OpenTask(t.id, t.name, t.role, t.due_on, t.claimed_by.username if t.claimed_by else None,
                               [(u.username, u.display_name) for u in candidates(session, t.role, t.unit_id)])
                      for t in session.scalars(select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN)
                                               .order_by(Task.id))]
        procedure = session.scalar(select(ProcessVersion.name).where(ProcessVersion.id == case.process_version_id))
        return AdminCase(case.reference, procedure, case.title, case.status, case.error, timers, open_tasks,
                         _waiting_messages(runtime, session, case))


# --- actions (each with a reason that goes into the case's record) -----------------------
def reassign(runtime: Runtime, actor: Principal, reference: str, task_id: int, to: str, *, reason: str) -> None:
    """Give an open task of the case to another holder of its role."""
    with runtime.transaction() as session:
        case = administered_case(session, actor, reference)
        reason = require_reason(reason)
        task = session.get(Task, task_id)
        if task is None or task.case_id != case.id:
            raise NotFound(f"no task {task_id} in {reference}")
        if task.status != TaskStatus.OPEN:
            raise Conflict(f"task {task.id} is already {task.status}")
        holders = {u.username: u for u in candidates(session, task.role, task.unit_id)}
        if to not in holders:
            raise InvalidData(f"{to!r} does not hold the role {task.role!r} for this case",
                              {"to": [f"Choose someone who holds the role {task.role!r} for this case."]})
        user = holders[to]
        task.claimed_by_id = user.id
        record(session, task.case, runtime.clock.now(), actor.username, "reassign",
               f"Task {task.name} given to {user.username}: {reason}")


# --- process owners -----------------------------------------------------------------------
def require_process_owner(actor: Principal) -> None:
    if not actor.may_own_processes:
        raise Forbidden("only process owners can see and deploy process versions")


def deploy(runtime: Runtime, actor: Principal, files: Mapping[str, bytes]) -> list[deployment.Deployed]:
    """Validate and deploy new versions (process owners)."""
    require_process_owner(actor)
    return deployment.deploy(runtime, files, by=actor.username)


@dataclass(frozen=True)
class VersionInfo:
    version: int
    file_name: str
    deployed_by: str
    deployed_at: datetime
    running: int
    cases: int


@dataclass(frozen=True)
class ProcessInfo:
    process_id: str
    name: str
    versions: list[VersionInfo]  # newest first


def processes(runtime: Runtime, actor: Principal) -> list[ProcessInfo]:
    """Every deployed process with its versions and how many cases (running, all) use each."""
    require_process_owner(actor)
    with runtime.reading() as session:
        counts: dict[int, dict[str, int]] = {}
        for version_id, status, count in session.execute(
                select(Case.process_version_id, Case.status, func.count()).group_by(Case.process_version_id,
                                                                                    Case.status)):
            counts.setdefault(version_id, {})[status] = count
        found: dict[str, ProcessInfo] = {}
        for row in session.execute(select(ProcessVersion.id, ProcessVersion.process_id, ProcessVersion.name,
                                          ProcessVersion.version, ProcessVersion.file_name,
                                          ProcessVersion.deployed_by, ProcessVersion.deployed_at)
                                   .order_by(ProcessVersion.process_id, ProcessVersion.version.desc())):
            by_status = counts.get(row.id, {})
            info = found.setdefault(row.process_id, ProcessInfo(row.process_id, row.name, []))
            info.versions.append(VersionInfo(row.version, row.file_name, row.deployed_by, row.deployed_at,
                                             by_status.get(CaseStatus.RUNNING, 0), sum(by_status.values())))
        return sorted(found.values(), key=lambda p: p.name)


@dataclass(frozen=True)
class VersionSource:
    process_id: str
    name: str
    version: int
    file_name: str
    xml: bytes


def version_source(runtime: Runtime, actor: Principal, process_id: str, version: int) -> VersionSource:
    require_process_owner(actor)
    with runtime.reading() as session:
        row = session.execute(select(ProcessVersion.name, ProcessVersion.file_name, ProcessVersion.source_xml)
                              .where(ProcessVersion.process_id == process_id,
                                     ProcessVersion.version == version)).first()
        if row is None:
            raise NotFound(f"no version {version} of {process_id!r}")
        return VersionSource(process_id, row.name, version, row.file_name, row.source_xml)
