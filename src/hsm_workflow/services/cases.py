"""Cases: the use cases that start, message, suspend, resume, terminate and retry a case.

Each public function takes the acting :class:`Principal`, decides whether it may act and
acts in one transaction. :class:`CaseWork` holds the operations shared within a transaction.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..db.models import Case, ProcessVersion, Sequence, Task, Timer
from ..domain.principals import Principal
from ..domain.status import CaseStatus, TaskStatus, TimerStatus
from ..errors import Conflict, Forbidden, InvalidData, NotFound, UnknownMessage
from .directory import roles_held, scopes, unit_coded
from .progress import Stepper, record
from .runtime import Runtime
from .start_data import handed_over, validated_start_data
from .visibility import acting_user, require_administrator, visible_case

DEFAULT_UNIT = "downing"
ADMINISTERED = frozenset({CaseStatus.SUSPENDED, CaseStatus.RUNNING, CaseStatus.TERMINATED})
RUNTIME_ACTOR = "system"  # what the runtime does by itself: linked cases, closing them


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    process_id: str
    version: int
    status: CaseStatus
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


def change_status(case: Case, target: CaseStatus) -> None:
    """Move the case to ``target`` if the status table allows it; Conflict otherwise."""
    if not CaseStatus(case.status).may_become(target):
        raise Conflict(f"{case.reference} is {case.status}; it cannot become {target}")
    case.status = target


def require_running(case: Case) -> None:
    if case.status != CaseStatus.RUNNING:
        raise Conflict(f"{case.reference} is {case.status}; only a running case can do this")


def require_reason(reason: str | None) -> str:
    """Administrative actions must say why: the reason goes into the case's record."""
    if not reason or not reason.strip():
        raise InvalidData("a reason is required", {"reason": ["Give a reason: it is kept in the case's record."]})
    return reason.strip()


class CaseWork:
    """Case operations within one transaction (used by the use cases below and in tasks, timers)."""

    def __init__(self, runtime: Runtime, session: Session):
        self.runtime, self.session = runtime, session
        self.stepper = Stepper(runtime, session)

    def start(self, process_id: str, variables: Mapping[str, Any], by: str, unit: str | None = None,
              parent: Case | None = None) -> Case:
        version = latest_version(self.session, process_id)
        variables = validated_start_data(version, variables)
        unit_row = unit_coded(self.session, unit) if unit else (parent.unit if parent else
                                                                  unit_coded(self.session, DEFAULT_UNIT))
        now = self.stepper.now
        variables = dict(variables)
        if parent is not None:
            variables["parent_case"] = parent.reference
        case = Case(reference=_next_reference(self.session, now.year), process_version=version,
                    process_id=process_id, unit=unit_row, parent_case=parent,
                    status=CaseStatus.RUNNING, title=_title(variables), started_by=by, started_at=now,
                    engine_state="")
        self.session.add(case)
        self.session.flush()
        record(self.session, case, now, by, "started", f"Case started: {version.name} v{version.version}",
               {"data": variables, "parent": parent.reference if parent else None})
        instance = self.stepper.new_instance(version)
        self.step(case, instance, lambda i: i.start(variables), by)
        return case

    def step(self, case: Case, instance, action, actor: str):
        effects = self.stepper.advance(case, instance, action, actor, self._start_linked)
        if instance.completed and case.status == CaseStatus.RUNNING:
            self.end(case, CaseStatus.COMPLETED, actor, "Case completed")
        return effects

    def _start_linked(self, parent: Case, process_id: str, variables: dict) -> None:
        child = self.start(process_id, handed_over(latest_version(self.session, process_id), variables),
                           RUNTIME_ACTOR, parent=parent)
        record(self.session, parent, self.stepper.now, RUNTIME_ACTOR, "linked",
               f"Linked case started: {child.reference}", {"case": child.reference, "process": process_id})

    def end(self, case: Case, status: CaseStatus, actor: str, summary: str) -> None:
        change_status(case, status)
        case.ended_at = self.stepper.now
        record(self.session, case, self.stepper.now, actor, status, summary)
        for child in [linked for linked in case.linked_cases if linked.status == CaseStatus.RUNNING]:
            self._close_linked(child, case)

    def _close_linked(self, child: Case, parent: Case) -> None:
        instance = self.stepper.load(child)
        if "case_closed" not in instance.waiting_messages():
            record(self.session, child, self.stepper.now, RUNTIME_ACTOR, "note",
                   f"Linked case {parent.reference} ended; this case does not wait for case_closed")
            return
        self.deliver(child, "case_closed", {"case": parent.reference}, RUNTIME_ACTOR, instance)

    def deliver(self, case: Case, name: str, payload: Mapping[str, Any], by: str, instance=None) -> None:
        require_running(case)
        instance = instance or self.stepper.load(case)
        record(self.session, case, self.stepper.now, by, "message", f"Message received: {name}",
               {"data": dict(payload)})
        self.step(case, instance, lambda i: i.deliver_message(name, payload), by)

    def fire_timers(self, case: Case, by: str, due: list[Timer] | None = None) -> int:
        """Fire the case's timers due by now (``due``, when the caller has them); returns how many fired."""
        if case.status != CaseStatus.RUNNING:
            return 0
        if due is None:
            due = list(self.session.scalars(select(Timer).where(Timer.case_id == case.id,
                                                                Timer.status == TimerStatus.PENDING,
                                                                Timer.due_at <= self.stepper.now)))
        if not due:
            return 0
        instance = self.stepper.load(case)
        for timer in due:
            record(self.session, case, self.stepper.now, by, "timer", f"Timer fired: {timer.name}",
                   {"due_at": timer.due_at.isoformat()})
        self.step(case, instance, lambda i: i.fire_timers(), by)
        return len(due)

    def terminate(self, case: Case, by: str, reason: str) -> None:
        for task in self.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN)):
            task.status = TaskStatus.CANCELLED
        for timer in self.session.scalars(select(Timer).where(Timer.case_id == case.id,
                                                              Timer.status == TimerStatus.PENDING)):
            timer.status = TimerStatus.CANCELLED
        self.end(case, CaseStatus.TERMINATED, by, f"Case terminated: {reason}")


# --- use cases ------------------------------------------------------------------------------
def _check_may_start(session: Session, actor: Principal, unit_id: int) -> None:
    user = acting_user(session, actor)
    if user is None or user.is_admin:
        return
    if not any(unit_id in units for units in scopes(session, user).values()):
        raise Forbidden(f"{actor.username} holds no role in that unit and may not start cases there")


def start_case(runtime: Runtime, actor: Principal, process_id: str, variables: Mapping[str, Any], *,
               unit: str | None = None, parent: str | None = None) -> CaseSummary:
    """Start a case: administrators anywhere, others in a unit where they hold a role.

    A linked case needs a parent case the actor may see.
    """
    with runtime.transaction() as session:
        parent_case = visible_case(session, actor, parent) if parent else None
        unit_id = unit_coded(session, unit).id if unit else (
            parent_case.unit_id if parent_case else unit_coded(session, DEFAULT_UNIT).id)
        _check_may_start(session, actor, unit_id)
        case = CaseWork(runtime, session).start(process_id, variables, actor.username, unit, parent_case)
        return summary_of(case, parent)


def _check_may_deliver(session: Session, actor: Principal, case: Case, name: str,
                       waiting: Mapping[str, frozenset[str]]) -> bool:
    """Refuse unless the actor may deliver ``name`` now; True when they act on a role's behalf."""
    if name not in waiting:
        raise UnknownMessage(f"{case.reference} does not wait for the message {name!r} now")
    roles = waiting[name]
    if not roles:
        raise Forbidden(f"{name!r} is sent by the system itself; no one may deliver it")
    user = acting_user(session, actor)
    if user is not None and roles & roles_held(session, user, case.unit_id):
        return False
    if actor.may_administer:
        return True
    raise Forbidden(f"{name!r} may be delivered only by: {', '.join(sorted(roles))}")


def deliver_message(runtime: Runtime, actor: Principal, reference: str, name: str, payload: Mapping[str, Any], *,
                    reason: str | None = None) -> None:
    """Deliver a message the case waits for (a party's request, an outside event).

    Holders of the roles the diagram names for the message deliver it; administrators may
    deliver it on their behalf with a reason (e.g. a withdrawal received by e-mail).
    """
    with runtime.transaction() as session:
        case = visible_case(session, actor, reference)
        require_running(case)
        work = CaseWork(runtime, session)
        instance = work.stepper.load(case)
        if _check_may_deliver(session, actor, case, name, instance.waiting_messages()):
            why = require_reason(reason)
            record(session, case, work.stepper.now, actor.username, "admin",
                   f"Message {name} delivered on behalf of its senders: {why}")
        work.deliver(case, name, payload, actor.username, instance)


def simulate_runtime_message(runtime: Runtime, reference: str, name: str, payload: Mapping[str, Any]) -> None:
    """Deliver a message as the runtime itself would (e.g. ``case_closed`` when a parent case ends).

    Only for the scenario runner, which checks a linked process on its own; no web, API or
    CLI route reaches it.
    """
    with runtime.transaction() as session:
        CaseWork(runtime, session).deliver(case_by_reference(session, reference), name, payload, RUNTIME_ACTOR)


def set_status(runtime: Runtime, actor: Principal, reference: str, status: CaseStatus, *, reason: str) -> None:
    """Suspend, resume or terminate a case (administrators; the reason is logged)."""
    with runtime.transaction() as session:
        case = visible_case(session, actor, reference)
        require_administrator(actor, "change a case's status")
        reason = require_reason(reason)
        if status not in ADMINISTERED:
            raise InvalidData(f"a case cannot be set {status} by hand",
                              {"status": ["Choose suspend, resume or terminate."]})
        work = CaseWork(runtime, session)
        if status == CaseStatus.TERMINATED:
            work.terminate(case, actor.username, reason)
            return
        change_status(case, status)
        case.error = None if status == CaseStatus.RUNNING else case.error
        verb = "resumed" if status == CaseStatus.RUNNING else str(status)
        record(session, case, work.stepper.now, actor.username, status, f"Case {verb}: {reason}")


def retry(runtime: Runtime, actor: Principal, reference: str, *, reason: str) -> int:
    """Put a case whose step failed back to running and run its due timers again.

    If the step fails again nothing changes: the case stays in error. Returns timers fired.
    """
    with runtime.transaction() as session:
        case = visible_case(session, actor, reference)
        require_administrator(actor, "retry a case")
        reason = require_reason(reason)
        if case.status != CaseStatus.ERROR:
            raise Conflict(f"{case.reference} is {case.status}; only a case in error can be retried")
        work = CaseWork(runtime, session)
        change_status(case, CaseStatus.RUNNING)
        case.error = None
        record(session, case, work.stepper.now, actor.username, "retry", f"Failed step retried: {reason}")
        return work.fire_timers(case, actor.username)


def count_cases(runtime: Runtime) -> int:
    with runtime.reading() as session:
        return session.scalar(select(func.count(Case.id)))
