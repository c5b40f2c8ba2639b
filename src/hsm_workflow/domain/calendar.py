"""Working-day calendar for deadlines.

A working day is any day except Saturdays, Sundays, bank holidays of England and
Wales and other days the institution's offices are closed. Day boundaries are
those of Europe/London; instants are stored in UTC.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

LONDON = ZoneInfo("Europe/London")
_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


def _plain_date(d: date) -> date:
    """Return d, refusing datetimes (a subclass of date) so times are never dropped silently."""
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a date, got {d!r}")
    return d


class WorkingCalendar:
    """Working days: weekdays that are neither bank holidays (England and Wales) nor closure days."""

    def __init__(self, closure_days: Iterable[date] = ()) -> None:
        self._closure_days = frozenset(_plain_date(d) for d in closure_days)
        self._bank_holidays = holidays.country_holidays("GB", subdiv="ENG")

    @property
    def closure_days(self) -> frozenset[date]:
        """Days the offices are closed in addition to weekends and bank holidays."""
        return self._closure_days

    def is_working_day(self, d: date) -> bool:
        """True if d is a weekday, not a bank holiday and not a closure day."""
        d = _plain_date(d)
        return d.weekday() < _SATURDAY and d not in self._bank_holidays and d not in self._closure_days

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after start (day 1 is the first one after start); n == 0 gives start."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        d = _plain_date(start)
        while n:
            d += _ONE_DAY
            if self.is_working_day(d):
                n -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after start up to and including end; negative if end < start."""
        start, end = _plain_date(start), _plain_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        return sum(self.is_working_day(start + i * _ONE_DAY) for i in range(1, (end - start).days + 1))


def add_calendar_months(d: date, n: int) -> date:
    """d plus n calendar months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    return _plain_date(d) + relativedelta(months=n)


def local_date(instant: datetime) -> date:
    """The Europe/London date of an aware datetime."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {instant!r}")
    return instant.astimezone(LONDON).date()


def start_of_day(d: date) -> datetime:
    """London midnight at the start of d, as an aware UTC datetime."""
    return datetime.combine(_plain_date(d), time(), tzinfo=LONDON).astimezone(timezone.utc)


def end_of_day(d: date) -> datetime:
    """Next London midnight after d, as aware UTC: a task due on d is overdue from this instant."""
    return start_of_day(_plain_date(d) + _ONE_DAY)


def parse_date(value: str | date | datetime) -> date:
    """The date of an ISO date or date-time (naive means Europe/London), date or datetime."""
    if isinstance(value, datetime):
        return value.date() if value.tzinfo is None else local_date(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return parse_date(datetime.fromisoformat(value.strip()))
        except ValueError:
            pass
    raise ValueError(
        f"expected an ISO date (2026-01-31) or date-time (2026-01-31T09:00:00+00:00), got {value!r}"
    )


def parse_instant(value: str | date | datetime) -> datetime:
    """An aware UTC datetime from an ISO date-time (naive means Europe/London) or a date
    (its London midnight)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected an ISO date or date-time, got {value!r}") from None
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=LONDON)
        return aware.astimezone(timezone.utc)
    if isinstance(value, date):
        return start_of_day(value)
    raise ValueError(f"expected an ISO date or date-time, got {value!r}")
