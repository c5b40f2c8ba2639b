"""Errors the service layer raises; web, CLI and scheduler turn them into answers."""
from __future__ import annotations

from collections.abc import Iterable, Mapping


class HsmError(Exception):
    """Base class: a request was refused and nothing changed."""


class NotFound(HsmError):
    pass


class Forbidden(HsmError):
    """The user may not do this (outside their role)."""


class Conflict(HsmError):
    """The request lost a race or the thing is no longer in a state that allows it."""


class InvalidData(HsmError):
    """Submitted data does not fit its form; ``errors`` maps field -> messages."""

    def __init__(self, message: str, errors: Mapping[str, list[str]]):
        super().__init__(message)
        self.errors = dict(errors)


class DeploymentRefused(HsmError):
    """Diagrams failed validation; nothing was deployed."""

    def __init__(self, problems: Iterable):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class UnknownMessage(HsmError):
    """Nothing in the case waits for this message."""


class StepFailed(HsmError):
    """The engine failed to run a step of the diagram (the case is not changed)."""
