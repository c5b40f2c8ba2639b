"""Demo cases in several states, for `make run`."""
from __future__ import annotations

from .cases import count_cases
from .runtime import Runtime


def seed_cases(runtime: Runtime) -> int:
    """Create demo cases once; returns how many were created."""
    if count_cases(runtime):
        return 0
    return 0
