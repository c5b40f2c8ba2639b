"""Signing in and out: server-side web sessions and the record of every sign-in attempt.

A browser's cookie carries only a random session id; the ``web_sessions`` row behind it
(found by the id's SHA-256 hash) says whose session it is and whether it is still live.
Every attempt, successful or not, local or single sign-on, is written to ``sign_ins``.
The web layer calls these functions and decides nothing itself.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db.models import SignIn, User, WebSession
from ..domain.principals import Principal
from . import access
from .runtime import Runtime

PASSWORD, SINGLE_SIGN_ON = "password", "oidc"
TOUCH_EVERY = timedelta(minutes=1)
"""How stale ``last_seen_at`` may get before a request writes it (not one write per request)."""

WRONG_PASSWORD = "wrong username or password"
NO_ACCOUNT = "no active account"
RATE_LIMITED = "too many attempts"
SIGNED_OUT, REPLACED, IDLE, EXPIRED, INACTIVE = "signed out", "replaced", "idle", "expired", "user inactive"

USERNAME_CHARS, USER_AGENT_CHARS = 100, 200


@dataclass(frozen=True)
class Attempt:
    """Who tried to sign in, how, and from where (as the request tells it)."""

    username: str
    method: str
    remote_addr: str | None
    user_agent: str


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    session_id: str
    """The new session's id, for the cookie; only its hash is stored."""


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _record(session: Session, attempt: Attempt, at: datetime, reason: str | None) -> None:
    session.add(SignIn(at=at, username=attempt.username[:USERNAME_CHARS], success=reason is None,
                       method=attempt.method, reason=reason, remote_addr=attempt.remote_addr,
                       user_agent=attempt.user_agent[:USER_AGENT_CHARS]))


def _end(session: Session, session_id: str | None, at: datetime, reason: str) -> None:
    if session_id:
        session.execute(update(WebSession).where(WebSession.id_hash == _digest(session_id),
                                                 WebSession.ended_at.is_(None))
                        .values(ended_at=at, end_reason=reason))


def _start(session: Session, user: User, attempt: Attempt, now: datetime, replacing: str | None) -> SignedIn:
    """A new session for ``user`` (ending the one the browser had, so an old id is never reused)."""
    _record(session, attempt, now, None)
    _end(session, replacing, now, REPLACED)
    session_id = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_digest(session_id), user_id=user.id, method=attempt.method,
                           created_at=now, last_seen_at=now))
    return SignedIn(access.principal_of(user), session_id)


def sign_in_with_password(runtime: Runtime, attempt: Attempt, password: str, *,
                          replacing: str | None = None) -> SignedIn | None:
    """A new session if ``password`` is the user's; None (and a failure recorded) otherwise."""
    now = runtime.clock.now()
    with runtime.transaction() as session:
        user = access.check_password(session, attempt.username, password)
        if user is None:
            _record(session, attempt, now, WRONG_PASSWORD)
            return None
        return _start(session, user, attempt, now, replacing)


def sign_in_vouched(runtime: Runtime, attempt: Attempt, *, replacing: str | None = None) -> SignedIn | None:
    """A new session for a user an identity provider vouched for; None if there is no active account."""
    now = runtime.clock.now()
    with runtime.transaction() as session:
        user = session.scalar(select(User).where(User.username == attempt.username, User.active.is_(True)))
        if user is None:
            _record(session, attempt, now, NO_ACCOUNT)
            return None
        return _start(session, user, attempt, now, replacing)


def record_failure(runtime: Runtime, attempt: Attempt, reason: str) -> None:
    """Record an attempt refused before any account was checked (rate limit, provider error)."""
    with runtime.transaction() as session:
        _record(session, attempt, runtime.clock.now(), reason)


def sign_out(runtime: Runtime, session_id: str) -> None:
    """End the session: its cookie signs nobody in from now on."""
    with runtime.transaction() as session:
        _end(session, session_id, runtime.clock.now(), SIGNED_OUT)


def _expiry(runtime: Runtime, row: WebSession, now: datetime) -> str | None:
    settings = runtime.settings
    if now - row.created_at >= settings.session_lifetime:
        return EXPIRED
    if now - row.last_seen_at >= settings.session_idle_timeout:
        return IDLE
    return None if row.user.active else INACTIVE


def signed_in(runtime: Runtime, session_id: str) -> Principal | None:
    """The user of a live session, or None; a session found idle or too old is ended."""
    now = runtime.clock.now()
    with runtime.transaction() as session:
        row = session.scalar(select(WebSession).where(WebSession.id_hash == _digest(session_id),
                                                      WebSession.ended_at.is_(None)))
        if row is None:
            return None
        ended = _expiry(runtime, row, now)
        if ended:
            row.ended_at, row.end_reason = now, ended
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
        return access.principal_of(row.user)
