"""The due-date language of diagrams: ``camunda:dueDate`` and the ``reminder`` property.

Deadlines read ``<N> working days|days|weeks|calendar months [from <variable>]``;
reminders read ``<N> working days|days before`` (see docs/modelling.md).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args

from hsm_workflow.domain.calendar import WorkingCalendar, add_calendar_months, local_date, parse_date

DeadlineUnit = Literal["working_days", "days", "weeks", "calendar_months"]
ReminderUnit = Literal["working_days", "days"]

_DEADLINE_FORMS = (
    "'<N> working days|days|weeks|calendar months [from <variable>]', "
    "e.g. '10 working days' or '14 days from decision_notified_on'"
)
_REMINDER_FORMS = "'<N> working days|days before', e.g. '2 working days before'"
_UNIT_WORDS = {
    "working day": "working_days",
    "day": "days",
    "week": "weeks",
    "calendar month": "calendar_months",
    "month": "calendar_months",
}
_SINGULAR = {
    "working_days": "working day",
    "days": "day",
    "weeks": "week",
    "calendar_months": "calendar month",
}
_DEADLINE_RE = re.compile(
    r"\s*([0-9]+)\s+(working\s+days?|days?|weeks?|calendar\s+months?|months?)"
    r"(?:\s+from\s+([A-Za-z_][A-Za-z0-9_]*))?\s*",
    re.IGNORECASE,
)
_REMINDER_RE = re.compile(r"\s*([0-9]+)\s+(working\s+days?|days?)\s+before\s*", re.IGNORECASE)


class DeadlineSyntaxError(ValueError):
    """A due date or reminder that cannot be read, or that counts from a missing variable."""


def _unit(words: str) -> str:
    """'Working  Days' -> 'working_days'; 'months' -> 'calendar_months'."""
    return _UNIT_WORDS[" ".join(words.lower().split()).removesuffix("s")]


def _phrase(amount: int, unit: str) -> str:
    """(1, 'working_days') -> '1 working day'; (3, 'days') -> '3 days'."""
    return f"{amount} {_SINGULAR[unit]}{'' if amount == 1 else 's'}"


def _check(amount: int, unit: str, units: tuple[str, ...]) -> None:
    """Refuse units outside units and negative amounts."""
    if unit not in units:
        raise ValueError(f"unit must be one of {', '.join(units)}, got {unit!r}")
    if amount < 0:
        raise ValueError(f"amount must be >= 0, got {amount}")


@dataclass(frozen=True)
class Deadline:
    """A due date counted from when the task opens, or from the date in variable ``since``."""

    amount: int
    unit: DeadlineUnit
    since: str | None = None

    def __post_init__(self) -> None:
        _check(self.amount, self.unit, get_args(DeadlineUnit))

    @classmethod
    def parse(cls, text: str) -> "Deadline":
        """Read '<N> working days|days|weeks|calendar months [from <variable>]'; month = calendar month."""
        match = _DEADLINE_RE.fullmatch(text)
        if match is None:
            raise DeadlineSyntaxError(f"cannot read due date {text!r}: expected {_DEADLINE_FORMS}")
        amount, words, since = match.groups()
        return cls(int(amount), _unit(words), since)

    def due_on(self, start: date, calendar: WorkingCalendar) -> date:
        """The due date when counting starts on start."""
        if self.unit == "working_days":
            return calendar.add_working_days(start, self.amount)
        if self.unit == "calendar_months":
            return add_calendar_months(start, self.amount)
        if self.unit == "weeks":
            return start + timedelta(weeks=self.amount)
        return start + timedelta(days=self.amount)

    def __str__(self) -> str:
        since = f" from {self.since}" if self.since is not None else ""
        return _phrase(self.amount, self.unit) + since


@dataclass(frozen=True)
class Reminder:
    """A reminder sent a number of working days or days before a task's due date."""

    amount: int
    unit: ReminderUnit

    def __post_init__(self) -> None:
        _check(self.amount, self.unit, get_args(ReminderUnit))

    @classmethod
    def parse(cls, text: str) -> "Reminder":
        """Read '<N> working days|days before'."""
        match = _REMINDER_RE.fullmatch(text)
        if match is None:
            raise DeadlineSyntaxError(f"cannot read reminder {text!r}: expected {_REMINDER_FORMS}")
        amount, words = match.groups()
        return cls(int(amount), _unit(words))

    def remind_on(self, due: date, calendar: WorkingCalendar) -> date:
        """The reminder date: the amount-th (working) day before due."""
        if self.unit == "days":
            return due - timedelta(days=self.amount)
        d, n = due, self.amount
        while n:
            d -= timedelta(days=1)
            if calendar.is_working_day(d):
                n -= 1
        return d

    def __str__(self) -> str:
        return f"{_phrase(self.amount, self.unit)} before"


def start_date(deadline: Deadline, variables: Mapping[str, Any], opened_at: datetime) -> date:
    """The date a deadline counts from: the London date the task opened, or the date in ``since``."""
    if deadline.since is None:
        return local_date(opened_at)
    if deadline.since not in variables:
        raise DeadlineSyntaxError(
            f"due date {str(deadline)!r} counts from variable {deadline.since!r}, which is not set"
        )
    try:
        return parse_date(variables[deadline.since])
    except ValueError as exc:
        raise ValueError(f"variable {deadline.since!r}: {exc}") from exc
