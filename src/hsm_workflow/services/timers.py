"""Firing due timers exactly once, with any number of scheduler processes.

A sweep picks cases with a due timer, locking each case row (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so two schedulers never pick the same case; SQLite serialises
writers and the case's version counter refuses a second firing). Each case fires in its
own savepoint: the timer row turns to ``fired`` in the same transaction as the engine
state, so a crash before commit loses nothing and fires nothing twice.

Catch-up rule after downtime: each overdue timer fires once when the scheduler starts;
a repeating timer fires one overdue occurrence and skips the rest (one review task,
not a pile of them).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..db.models import Case, Timer
from ..errors import HsmError
from ..domain.principals import SCHEDULER
from ..domain.status import CaseStatus, TimerStatus
from .cases import CaseWork, change_status
from .progress import record
from .runtime import Runtime


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    cases: int
    timers: int
    failed: int


def _due_cases(session: Session, runtime: Runtime, limit: int) -> list[Case]:
    now = runtime.clock.now()
    due = exists().where(Timer.case_id == Case.id, Timer.status == TimerStatus.PENDING, Timer.due_at <= now)
    query = select(Case).where(Case.status == CaseStatus.RUNNING, due).order_by(Case.id).limit(limit)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Case)
    return list(session.scalars(query))


def fire_due(runtime: Runtime, batch: int = 50) -> Sweep:
    """Fire the timers due by now in up to ``batch`` cases; one transaction."""
    fired = failed = 0
    with runtime.transaction() as session:
        cases = _due_cases(session, runtime, batch)
        work = CaseWork(runtime, session)
        for case in cases:
            savepoint = session.begin_nested()
            try:
                fired += work.fire_timers(case, SCHEDULER.username)
                savepoint.commit()
            except Exception as error:  # noqa: BLE001 - any failure stops this case, never the sweep
                savepoint.rollback()
                failed += 1
                _mark_error(session, runtime, case, error)
        return Sweep(len(cases), fired, failed)


def _mark_error(session: Session, runtime: Runtime, case: Case, error: Exception) -> None:
    """The case stops, with the reason an administrator needs to fix it and retry."""
    log.warning("case %s: timer step failed", case.reference, exc_info=error)
    reason = str(error) if isinstance(error, HsmError) else f"{type(error).__name__}: {error}"
    change_status(case, CaseStatus.ERROR)
    case.error = reason[:2000]
    record(session, case, runtime.clock.now(), SCHEDULER.username, "error", f"Timer step failed: {reason}")


def fire_all_due(runtime: Runtime, batch: int = 50) -> int:
    """Sweep until nothing is due; returns timers fired."""
    total = 0
    while True:
        sweep = fire_due(runtime, batch)
        total += sweep.timers
        if sweep.cases == 0 or (sweep.timers == 0 and sweep.failed == 0):
            return total
