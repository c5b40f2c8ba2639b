"""Cases: start, message, timers, suspend/resume/terminate, and what a case looks like."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..db.models import Case, CaseEvent, Letter, ProcessVersion, Sequence, Task, Timer
from ..errors import Conflict, InvalidData, NotFound
from .directory import unit_coded
from .progress import OPEN, PENDING, Stepper, record
from .runtime import Runtime

RUNNING, COMPLETED, SUSPENDED, TERMINATED, ERROR = "running", "completed", "suspended", "terminated", "error"
DEFAULT_UNIT = "downing"


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    process_id: str
    version: int
    status: str
    unit: str
    started_at: datetime
    ended_at: datetime | None
    parent: str | None


def summary_of(case: Case, parent: str | None = None) -> CaseSummary:
    return CaseSummary(case.reference, case.process_id, case.process_version.version, case.status,
                       case.unit.code, case.started_at, case.ended_at, parent)


def case_by_reference(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(f"no case {reference!r}")
    return case


def latest_version(session: Session, process_id: str) -> ProcessVersion:
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                             .order_by(ProcessVersion.version.desc()).limit(1))
    if version is None:
        raise NotFound(f"no deployed process {process_id!r}")
    return version


def _next_reference(session: Session, year: int) -> str:
    bumped = session.execute(update(Sequence).where(Sequence.year == year)
                             .values(last=Sequence.last + 1).returning(Sequence.last)).scalar()
    if bumped is None:
        session.add(Sequence(year=year, last=1))
        session.flush()
        bumped = 1
    return f"HSM-{year}-{bumped:04d}"


def _title(variables: Mapping[str, Any]) -> str:
    parties = [str(variables[k]) for k in ("complainant", "reporter", "student") if variables.get(k)]
    others = [str(variables[k]) for k in ("respondent", "subject", "other_party") if variables.get(k)]
    return " / ".join(parties + others)[:300]


class CaseWork:
    """Case operations within one transaction (used by the public functions below)."""

    def __init__(self, runtime: Runtime, session: Session):
        self.runtime, self.session = runtime, session
        self.stepper = Stepper(runtime, session)

    def start(self, process_id: str, variables: Mapping[str, Any], by: str, unit: str | None = None,
              parent: Case | None = None) -> Case:
        version = latest_version(self.session, process_id)
        unit_row = unit_coded(self.session, unit) if unit else (parent.unit if parent else
                                                                  unit_coded(self.session, DEFAULT_UNIT))
        now = self.stepper.now
        variables = dict(variables)
        if parent is not None:
            variables["parent_case"] = parent.reference
        case = Case(reference=_next_reference(self.session, now.year), process_version=version,
                    process_id=process_id, unit=unit_row, parent_case_id=parent.id if parent else None,
                    status=RUNNING, title=_title(variables), started_by=by, started_at=now, engine_state="")
        self.session.add(case)
        self.session.flush()
        record(self.session, case, now, by, "started", f"Case started: {version.name} v{version.version}",
               {"data": variables, "parent": parent.reference if parent else None})
        instance = self.stepper.new_instance(version)
        self.step(case, instance, lambda i: i.start(variables), by)
        return case

    def step(self, case: Case, instance, action, actor: str):
        effects = self.stepper.advance(case, instance, action, actor, self._start_linked)
        if instance.completed and case.status == RUNNING:
            self.end(case, COMPLETED, actor, "Case completed")
        return effects

    def _start_linked(self, parent: Case, process_id: str, variables: dict) -> None:
        child = self.start(process_id, variables, "system", parent=parent)
        record(self.session, parent, self.stepper.now, "system", "linked", f"Linked case started: {child.reference}",
               {"case": child.reference, "process": process_id})

    def end(self, case: Case, status: str, actor: str, summary: str) -> None:
        case.status, case.ended_at = status, self.stepper.now
        record(self.session, case, self.stepper.now, actor, status, summary)
        for child in self.session.scalars(select(Case).where(Case.parent_case_id == case.id,
                                                              Case.status == RUNNING)):
            self._close_linked(child, case)

    def _close_linked(self, child: Case, parent: Case) -> None:
        instance = self.stepper.load(child)
        if "case_closed" not in instance.waiting_messages():
            record(self.session, child, self.stepper.now, "system", "note",
                   f"Linked case {parent.reference} ended; this case does not wait for case_closed")
            return
        self.step(child, instance, lambda i: i.deliver_message("case_closed", {"case": parent.reference}), "system")

    def deliver(self, case: Case, name: str, payload: Mapping[str, Any], by: str) -> None:
        require_running(case)
        instance = self.stepper.load(case)
        record(self.session, case, self.stepper.now, by, "message", f"Message received: {name}", {"data": dict(payload)})
        self.step(case, instance, lambda i: i.deliver_message(name, payload), by)

    def fire_timers(self, case: Case, by: str = "scheduler") -> int:
        """Fire the case's timers due by now; returns how many fired."""
        if case.status != RUNNING:
            return 0
        due = self.session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.status == PENDING,
                                                       Timer.due_at <= self.stepper.now)).all()
        if not due:
            return 0
        instance = self.stepper.load(case)
        for timer in due:
            record(self.session, case, self.stepper.now, by, "timer", f"Timer fired: {timer.name}",
                   {"due_at": timer.due_at.isoformat()})
        self.step(case, instance, lambda i: i.fire_timers(), by)
        return len(due)


def require_reason(reason: str) -> str:
    """Administrative actions must say why: the reason goes into the case's record."""
    if not reason or not reason.strip():
        raise InvalidData("a reason is required", {"reason": ["Give a reason: it is kept in the case's record."]})
    return reason.strip()


def require_running(case: Case) -> None:
    if case.status != RUNNING:
        raise Conflict(f"{case.reference} is {case.status}; only a running case can do this")


def start_case(runtime: Runtime, process_id: str, variables: Mapping[str, Any], *, by: str,
               unit: str | None = None, parent: str | None = None) -> CaseSummary:
    with runtime.transaction() as session:
        parent_case = case_by_reference(session, parent) if parent else None
        case = CaseWork(runtime, session).start(process_id, variables, by, unit, parent_case)
        return summary_of(case, parent)


def deliver_message(runtime: Runtime, reference: str, name: str, payload: Mapping[str, Any], *, by: str) -> None:
    with runtime.transaction() as session:
        CaseWork(runtime, session).deliver(case_by_reference(session, reference), name, payload, by)


def fire_due_timers(runtime: Runtime, reference: str) -> int:
    """Fire one case's due timers at the runtime clock's instant."""
    with runtime.transaction() as session:
        return CaseWork(runtime, session).fire_timers(case_by_reference(session, reference))


def set_status(runtime: Runtime, reference: str, status: str, *, by: str, reason: str) -> None:
    """Suspend, resume or terminate a case (administrators; the reason is logged)."""
    reason = require_reason(reason)
    with runtime.transaction() as session:
        case = case_by_reference(session, reference)
        work = CaseWork(runtime, session)
        allowed = {SUSPENDED: {RUNNING}, RUNNING: {SUSPENDED, ERROR}, TERMINATED: {RUNNING, SUSPENDED, ERROR}}
        if case.status not in allowed[status]:
            raise Conflict(f"{case.reference} is {case.status}; it cannot become {status}")
        if status == TERMINATED:
            for task in session.scalars(select(Task).where(Task.case_id == case.id, Task.status == OPEN)):
                task.status = "cancelled"
            for timer in session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.status == PENDING)):
                timer.status = "cancelled"
            work.end(case, TERMINATED, by, f"Case terminated: {reason}")
            return
        case.status = status
        case.error = None if status == RUNNING else case.error
        record(session, case, work.stepper.now, by, status, f"Case {'resumed' if status == RUNNING else status}: {reason}")


@dataclass(frozen=True)
class CaseFile:
    summary: CaseSummary
    title: str
    tasks: list[dict]
    timers: list[dict]
    letters: list[dict]
    events: list[dict]
    linked: list[CaseSummary]
    error: str | None


def case_file(runtime: Runtime, reference: str) -> CaseFile:
    with runtime.reading() as session:
        case = case_by_reference(session, reference)
        parent = session.get(Case, case.parent_case_id) if case.parent_case_id else None
        tasks = [{"id": t.id, "name": t.name, "element": t.element_id, "role": t.role, "status": t.status,
                  "due_on": t.due_on.isoformat() if t.due_on else None,
                  "claimed_by": t.claimed_by.username if t.claimed_by else None,
                  "completed_by": t.completed_by.username if t.completed_by else None}
                 for t in session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.id))]
        timers = [{"name": t.name, "element": t.element_id, "due_at": t.due_at.isoformat(), "status": t.status}
                  for t in session.scalars(select(Timer).where(Timer.case_id == case.id).order_by(Timer.id))]
        letters = [{"id": l.id, "template": l.template, "title": l.title, "created_at": l.created_at.isoformat(),
                    "body": l.body}
                   for l in session.scalars(select(Letter).where(Letter.case_id == case.id).order_by(Letter.id))]
        events = [{"at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "summary": e.summary}
                  for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                           .order_by(CaseEvent.id))]
        linked = [summary_of(c, case.reference) for c in
                  session.scalars(select(Case).where(Case.parent_case_id == case.id).order_by(Case.id))]
        return CaseFile(summary_of(case, parent.reference if parent else None), case.title, tasks, timers,
                        letters, events, linked, case.error)


def count_cases(runtime: Runtime) -> int:
    with runtime.reading() as session:
        return session.scalar(select(func.count(Case.id)))
