"""The case clock: calendar days since a case began, with pauses left out (001 timescales)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Pause:
    reason: str
    start: date
    end: date | None  # None: still paused


@dataclass(frozen=True)
class Target:
    name: str
    days: int


#: Targets counted in calendar days from the start of the case, excluding pauses.
TARGETS: dict[str, tuple[Target, ...]] = {
    "student_disciplinary": (
        Target("Investigation and hearing (001: 70 days)", 70),
        Target("Whole procedure to outcome (001: 90 days)", 90),
    ),
}


def paused_days(pauses: list[Pause], today: date) -> int:
    return sum(((p.end or today) - p.start).days for p in pauses)


def elapsed(started: date, today: date, pauses: list[Pause]) -> tuple[int, int]:
    """Days elapsed, raw and excluding pauses."""
    raw = (today - started).days
    return raw, raw - paused_days(pauses, today)


def target_date(started: date, target: Target, pauses: list[Pause], today: date) -> date | None:
    """When the target falls due; None while the clock is paused (it moves day by day)."""
    if any(p.end is None for p in pauses):
        return None
    return started + timedelta(days=target.days + paused_days(pauses, today))
