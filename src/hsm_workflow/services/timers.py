"""Firing due timers exactly once, with any number of scheduler processes.

A sweep picks cases with a due timer, locking each case row (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so two schedulers never pick the same case; SQLite serialises
writers and the case's version counter refuses a second firing). A case whose step fails
is marked in error and the others fire (see :func:`fire_due`). The timer row turns to
``fired`` in the same transaction as the engine state, so a crash before commit loses
nothing and fires nothing twice.

Catch-up rule after downtime: each overdue timer fires once when the scheduler starts;
a repeating timer fires one overdue occurrence and skips the rest (one review task,
not a pile of them).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

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
    query = (select(Case).where(Case.status == CaseStatus.RUNNING, due).order_by(Case.id).limit(limit)
             .options(selectinload(Case.linked_cases)))
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Case)
    return list(session.scalars(query))


def _due_timers(session: Session, cases: list[Case], now: datetime) -> dict[int, list[Timer]]:
    """The timers due by ``now`` of ``cases``, by case id: one query for the whole batch."""
    due: dict[int, list[Timer]] = {case.id: [] for case in cases}
    for timer in session.scalars(select(Timer).where(Timer.case_id.in_(due), Timer.status == TimerStatus.PENDING,
                                                     Timer.due_at <= now).order_by(Timer.id)):
        due[timer.case_id].append(timer)
    return due


def fire_due(runtime: Runtime, batch: int = 50) -> Sweep:
    """Fire the timers due by now in up to ``batch`` cases; one transaction.

    The batch runs first as it almost always succeeds, with no savepoint per case (two round
    trips fewer each). If any case's step fails, that transaction rolls back and the batch
    runs again with each case in its own savepoint, so only the failing case is marked.
    """
    try:
        return _fire_batch(runtime, batch, isolated=False)
    except Exception as error:  # noqa: BLE001 - whatever failed is found and marked case by case
        log.info("a timer step failed; firing the batch case by case: %s", error)
        return _fire_batch(runtime, batch, isolated=True)


def _fire_batch(runtime: Runtime, batch: int, *, isolated: bool) -> Sweep:
    fired = failed = 0
    with runtime.transaction() as session:
        cases = _due_cases(session, runtime, batch)
        work = CaseWork(runtime, session)
        due = _due_timers(session, cases, work.stepper.now)
        for case in cases:
            if not isolated:
                fired += work.fire_timers(case, SCHEDULER.username, due[case.id])
                continue
            savepoint = session.begin_nested()
            try:
                fired += work.fire_timers(case, SCHEDULER.username, due[case.id])
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


def next_due(runtime: Runtime) -> datetime | None:
    """The next instant, after now, a pending timer of a running case falls due (None if none)."""
    with runtime.reading() as session:
        return session.scalar(select(func.min(Timer.due_at)).join(Case, Timer.case_id == Case.id)
                              .where(Timer.status == TimerStatus.PENDING, Case.status == CaseStatus.RUNNING,
                                     Timer.due_at > runtime.clock.now()))


def fire_all_due(runtime: Runtime, batch: int = 50) -> int:
    """Sweep until nothing is due; returns timers fired."""
    total = 0
    while True:
        sweep = fire_due(runtime, batch)
        total += sweep.timers
        if sweep.cases == 0 or (sweep.timers == 0 and sweep.failed == 0):
            return total
