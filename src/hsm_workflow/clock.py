"""Where "now" comes from: the system clock, or a virtual one for scenarios and tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class VirtualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime):
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        if instant.astimezone(timezone.utc) < self._now:
            raise ValueError("a virtual clock does not go backwards")
        self._now = instant.astimezone(timezone.utc)

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)
