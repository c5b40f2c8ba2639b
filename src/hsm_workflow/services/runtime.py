"""The service layer's shared parts: settings, clock and database."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..clock import Clock, SystemClock
from ..config import Settings
from ..db.schema import upgrade
from ..db.session import make_engine, session_factory
from ..errors import Conflict


class Runtime:
    """Built once per process (web app, CLI command, scheduler, test)."""

    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self.clock = clock or SystemClock()
        self.database = make_engine(settings.database_url)
        self._sessions = session_factory(self.database)

    def create_schema(self) -> None:
        upgrade(self.database)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success; a lost race becomes :class:`Conflict`."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except StaleDataError as error:
            session.rollback()
            raise Conflict("someone else changed this case at the same moment; nothing was changed") from error
        except OperationalError as error:
            session.rollback()
            if "locked" in str(error).lower() or "could not serialize" in str(error).lower():
                raise Conflict("the case is busy; nothing was changed, try again") from error
            raise
        except IntegrityError as error:
            session.rollback()
            raise Conflict(f"conflicting change refused: {error.orig}") from error
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (rolled back at the end)."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.database.dispose()
