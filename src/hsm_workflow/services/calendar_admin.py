"""Administering the working-day calendar and reading case clocks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..db.models import ClockPause, ClosureDay
from ..domain.calendar import local_date
from ..domain.case_clock import TARGETS, Pause, elapsed, target_date
from ..errors import Conflict, NotFound
from .cases import case_by_reference
from .progress import working_calendar
from .runtime import Runtime


def add_closure_day(runtime: Runtime, day: date, description: str) -> None:
    with runtime.transaction() as session:
        if session.get(ClosureDay, day) is not None:
            raise Conflict(f"{day.isoformat()} is already a closure day")
        session.add(ClosureDay(day=day, description=description))


def remove_closure_day(runtime: Runtime, day: date) -> None:
    with runtime.transaction() as session:
        row = session.get(ClosureDay, day)
        if row is None:
            raise NotFound(f"{day.isoformat()} is not a closure day")
        session.delete(row)


def closure_days(runtime: Runtime) -> list[tuple[date, str]]:
    with runtime.reading() as session:
        return [(r.day, r.description) for r in session.scalars(select(ClosureDay).order_by(ClosureDay.day))]


def add_working_days(runtime: Runtime, start: date, n: int) -> date:
    with runtime.reading() as session:
        return working_calendar(session).add_working_days(start, n)


def working_days_between(runtime: Runtime, start: date, end: date) -> int:
    with runtime.reading() as session:
        return working_calendar(session).working_days_between(start, end)


@dataclass(frozen=True)
class CaseClock:
    started_on: date
    elapsed_days: int
    elapsed_excluding_pauses: int
    pauses: list[Pause]
    targets: list[tuple[str, int, date | None]]


def case_clock(runtime: Runtime, reference: str) -> CaseClock:
    with runtime.reading() as session:
        case = case_by_reference(session, reference)
        today = local_date(case.ended_at or runtime.clock.now())
        started = local_date(case.started_at)
        pauses = [Pause(p.reason, local_date(p.started_at), local_date(p.ended_at) if p.ended_at else None)
                  for p in session.scalars(select(ClockPause).where(ClockPause.case_id == case.id)
                                           .order_by(ClockPause.started_at))]
        raw, excluding = elapsed(started, today, pauses)
        targets = [(t.name, t.days, target_date(started, t, pauses, today)) for t in TARGETS.get(case.process_id, ())]
        return CaseClock(started, raw, excluding, pauses, targets)
