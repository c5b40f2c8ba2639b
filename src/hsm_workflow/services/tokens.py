"""Personal API tokens for integrations: shown once, stored only as a SHA-256 hash."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from ..db.models import ApiToken, User
from .directory import user_named
from .runtime import Runtime

PREFIX = "hsm_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(runtime: Runtime, username: str) -> str:
    """A new token for an active user; the caller shows it once, it cannot be read back."""
    token = PREFIX + secrets.token_urlsafe(32)
    with runtime.transaction() as session:
        user = user_named(session, username)
        session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=runtime.clock.now()))
    return token


def authenticate(runtime: Runtime, token: str) -> str | None:
    """The username of an active user holding ``token``, or None."""
    if not token.startswith(PREFIX):
        return None
    with runtime.reading() as session:
        return session.scalar(select(User.username).join(ApiToken, ApiToken.user_id == User.id)
                              .where(ApiToken.token_hash == _digest(token), User.active.is_(True)))
