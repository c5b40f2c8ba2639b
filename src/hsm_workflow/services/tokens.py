"""Personal API tokens for integrations: shown once, stored only as a SHA-256 hash.

A token works until it expires (90 days unless asked otherwise) or is revoked. Listing and
revoking tokens is for administrators (and the operator at the server's command line).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..db.models import ApiToken, User
from ..domain.principals import Principal
from ..errors import Forbidden, InvalidData, NotFound
from .directory import user_named
from .runtime import Runtime
from .sessions import TOUCH_EVERY

PREFIX = "hsm_"
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class TokenEntry:
    """What may be shown about a token: never the token itself."""

    id: int
    username: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None
    expired: bool

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and not self.expired


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _require_administrator(actor: Principal) -> None:
    if not actor.may_administer:
        raise Forbidden("only administrators manage API tokens")


def create_token(runtime: Runtime, username: str, *, days: int | None = None) -> str:
    """A new token for an active user, valid for ``days`` (None: :data:`DEFAULT_DAYS`); the caller
    shows it once."""
    days = DEFAULT_DAYS if days is None else days
    if days < 1:
        raise InvalidData("a token must last at least a day", {"days": ["Give 1 or more days."]})
    token = PREFIX + secrets.token_urlsafe(32)
    now = runtime.clock.now()
    with runtime.transaction() as session:
        user = user_named(session, username)
        session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now,
                             expires_at=now + timedelta(days=days)))
    return token


def authenticate(runtime: Runtime, token: str) -> str | None:
    """The username of an active user holding a live ``token`` (not expired or revoked), or None."""
    if not token.startswith(PREFIX):
        return None
    now = runtime.clock.now()
    with runtime.transaction() as session:
        row = session.scalar(select(ApiToken).join(User, ApiToken.user_id == User.id).where(
            ApiToken.token_hash == _digest(token), User.active.is_(True), ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now))
        if row is None:
            return None
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            row.last_used_at = now
        return row.user.username


def list_tokens(runtime: Runtime, actor: Principal, username: str | None = None) -> list[TokenEntry]:
    """Every token (or ``username``'s), newest first."""
    _require_administrator(actor)
    now = runtime.clock.now()
    with runtime.reading() as session:
        query = select(ApiToken, User.username).join(User, ApiToken.user_id == User.id)
        if username is not None:
            query = query.where(User.username == username)
        return [TokenEntry(row.id, name, row.created_at, row.expires_at, row.last_used_at, row.revoked_at,
                           row.revoked_by, row.expires_at <= now)
                for row, name in session.execute(query.order_by(ApiToken.id.desc()))]


def revoke_token(runtime: Runtime, actor: Principal, token_id: int) -> bool:
    """Revoke a token; False if it was revoked already (nothing changed)."""
    _require_administrator(actor)
    with runtime.transaction() as session:
        row = session.get(ApiToken, token_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no API token {token_id}")
        if row.revoked_at is not None:
            return False
        row.revoked_at, row.revoked_by = runtime.clock.now(), actor.username
        return True
