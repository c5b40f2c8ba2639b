"""Personal API tokens: shown once, stored as a SHA-256 hash."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from hsm_workflow.db.models import ApiToken
from hsm_workflow.services import tokens


def test_a_token_authenticates_its_user_and_only_its_hash_is_stored(runtime):
    token = tokens.create_token(runtime, "master")
    assert token.startswith("hsm_") and len(token) > 40
    assert tokens.authenticate(runtime, token) == "master"
    with runtime.reading() as session:
        [stored] = session.scalars(select(ApiToken.token_hash))
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored


def test_wrong_tokens_and_inactive_users_do_not_authenticate(runtime):
    token = tokens.create_token(runtime, "master")
    assert tokens.authenticate(runtime, token + "x") is None
    assert tokens.authenticate(runtime, "not-a-token") is None
    with runtime.transaction() as session:
        from hsm_workflow.db.models import User
        session.scalar(select(User).where(User.username == "master")).active = False
    assert tokens.authenticate(runtime, token) is None


def test_each_token_is_new(runtime):
    assert tokens.create_token(runtime, "master") != tokens.create_token(runtime, "master")
