"""Who acts: a signed-in user, an API token's user, or a named system actor.

Every use case in the service layer takes the acting :class:`Principal` and decides there,
in the same transaction as the change, whether it may act.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    username: str
    display_name: str
    is_admin: bool
    is_system: bool = False

    @property
    def may_administer(self) -> bool:
        return self.is_admin or self.is_system

    @property
    def may_own_processes(self) -> bool:
        """Process owners deploy new versions; for now that is the administrators."""
        return self.may_administer


SCHEDULER = Principal("scheduler", "Scheduler", is_admin=False, is_system=True)
"""Fires timers and sends reminders."""

COMMAND_LINE = Principal("system:cli", "System (command line)", is_admin=False, is_system=True)
"""An operator at the server's command line who chose ``--system`` instead of ``--user``."""
