"""Functions that diagrams' expressions may call (ISO strings in, ISO strings out)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..domain.calendar import WorkingCalendar, add_calendar_months, local_date, parse_date


def script_functions(calendar: WorkingCalendar, now: Callable[[], datetime]) -> dict[str, Callable]:
    """The names available to conditions, scripts and timer expressions."""

    def add_working_days(day, n: int) -> str:
        return calendar.add_working_days(parse_date(day), int(n)).isoformat()

    def add_days(day, n: int) -> str:
        return (parse_date(day) + timedelta(days=int(n))).isoformat()

    def add_months(day, n: int) -> str:
        return add_calendar_months(parse_date(day), int(n)).isoformat()

    def working_days_between(start, end) -> int:
        return calendar.working_days_between(parse_date(start), parse_date(end))

    return {
        "add_working_days": add_working_days,
        "add_days": add_days,
        "add_calendar_months": add_months,
        "working_days_between": working_days_between,
        "today": lambda: local_date(now()).isoformat(),
        "now": lambda: now().isoformat(),
    }
