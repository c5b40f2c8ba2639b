"""Statuses of cases, tasks and timers, each with the one table of the changes it allows."""
from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    RUNNING = "running"
    SUSPENDED = "suspended"
    ERROR = "error"
    COMPLETED = "completed"
    TERMINATED = "terminated"

    def may_become(self, target: CaseStatus) -> bool:
        return target in CASE_TRANSITIONS[self]


CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RUNNING: frozenset({CaseStatus.SUSPENDED, CaseStatus.ERROR, CaseStatus.COMPLETED,
                                   CaseStatus.TERMINATED}),
    CaseStatus.SUSPENDED: frozenset({CaseStatus.RUNNING, CaseStatus.TERMINATED}),
    CaseStatus.ERROR: frozenset({CaseStatus.RUNNING, CaseStatus.TERMINATED}),
    CaseStatus.COMPLETED: frozenset(),
    CaseStatus.TERMINATED: frozenset(),
}


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TimerStatus(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"
