"""Server-side sessions: the cookie carries only a session id, a session ends at sign-out, when
idle or too old, and every sign-in attempt is recorded."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from hsm_workflow.db.models import SignIn, User, WebSession
from hsm_workflow.services import sessions
from hsm_workflow.web import create_app

from .helpers import post, sign_in, text

OLD_DEFAULT_KEY = "dev-only-not-secret"
FORGED = {"user": "admin", "method": "password", "_permanent": True}


def _cookie(app, key: str, data: dict) -> str:
    """A session cookie holding ``data``, signed with ``key`` as Flask would."""
    signer = SecureCookieSessionInterface().get_signing_serializer(app)
    signer.secret_keys = [key]
    return signer.dumps(data)


def _session_cookie(client) -> str:
    return client.get_cookie("hsm_session").value


def _with_cookie(app, value: str):
    client = app.test_client()
    client.set_cookie("hsm_session", value)
    return client


def _signed_in_as(client) -> bool:
    return client.get("/").status_code == 200


def _sign_ins(runtime) -> list[tuple[str, bool, str, str | None]]:
    with runtime.reading() as session:
        return [(r.username, r.success, r.method, r.reason)
                for r in session.scalars(select(SignIn).order_by(SignIn.id))]


def test_a_cookie_forged_with_the_old_built_in_key_opens_nothing(app):
    client = _with_cookie(app, _cookie(app, OLD_DEFAULT_KEY, FORGED))
    assert app.config["SECRET_KEY"] != OLD_DEFAULT_KEY
    assert client.get("/admin").status_code == 302
    assert client.get("/api/v1/cases").status_code == 401


def test_a_cookie_naming_a_user_opens_nothing_even_when_signed_with_the_real_key(app):
    """Only a live session id signs anyone in: the old cookie shape carries no session."""
    client = _with_cookie(app, _cookie(app, app.config["SECRET_KEY"], FORGED))
    assert client.get("/admin").status_code == 302


def test_the_cookie_carries_only_a_session_id(app, runtime):
    client = app.test_client()
    sign_in(client, "master")
    data = SecureCookieSessionInterface().get_signing_serializer(app).loads(_session_cookie(client))
    assert set(data) <= {"sid", "_permanent", "csrf_token", "_flashes"} and "master" not in str(data)
    with runtime.reading() as session:
        [row] = session.scalars(select(WebSession))
        assert row.user.username == "master" and row.method == "password" and row.ended_at is None
        assert row.id_hash != data["sid"]  # only a hash of the id is stored


def test_after_sign_out_the_old_cookie_is_signed_out(app, client_for, runtime):
    client = client_for("master")
    old = _session_cookie(client)
    assert post(client, "/logout").location == "/login"
    replay = _with_cookie(app, old)
    assert not _signed_in_as(replay)
    assert replay.get("/cases/HSM-2026-0001").status_code == 302
    with runtime.reading() as session:
        [row] = session.scalars(select(WebSession))
        assert row.end_reason == sessions.SIGNED_OUT


def test_a_session_idle_for_the_idle_timeout_ends(client_for, clock):
    client = client_for("master")
    clock.advance(timedelta(minutes=29))
    assert _signed_in_as(client)  # each request keeps it alive
    clock.advance(timedelta(minutes=29))
    assert _signed_in_as(client)
    clock.advance(timedelta(minutes=30))
    assert not _signed_in_as(client)
    clock.advance(timedelta(seconds=1))
    assert not _signed_in_as(client)  # an ended session does not come back


def test_a_session_ends_at_its_absolute_lifetime_however_busy(client_for, clock):
    client = client_for("master")
    for _ in range(8 * 3 - 1):
        clock.advance(timedelta(minutes=20))
        assert _signed_in_as(client)
    clock.advance(timedelta(minutes=20))  # 8 hours after sign-in
    assert not _signed_in_as(client)


def test_timeouts_come_from_settings(deployed, clock, monkeypatch):
    monkeypatch.setattr(deployed, "settings", replace(deployed.settings, session_idle_timeout=timedelta(minutes=5),
                                                      session_lifetime=timedelta(minutes=12)))
    app = create_app(deployed)
    assert app.permanent_session_lifetime == timedelta(minutes=12)
    client = app.test_client()
    sign_in(client, "master")
    clock.advance(timedelta(minutes=5))
    assert not _signed_in_as(client)
    sign_in(client, "master")
    for _ in range(2):
        clock.advance(timedelta(minutes=4))
        assert _signed_in_as(client)
    clock.advance(timedelta(minutes=4))
    assert not _signed_in_as(client)


def test_signing_in_starts_a_new_session_and_ends_the_one_the_browser_had(app, runtime):
    client = app.test_client()
    sign_in(client, "master")
    first = _session_cookie(client)
    sign_in(client, "caseworker")
    assert _session_cookie(client) != first
    assert not _signed_in_as(_with_cookie(app, first))
    assert "Signed in as <strong>Caseworker</strong>" in text(client.get("/"))
    with runtime.reading() as session:
        assert [r.end_reason for r in session.scalars(select(WebSession).order_by(WebSession.id))] == [
            sessions.REPLACED, None]


def test_a_deactivated_user_is_signed_out(client_for, runtime):
    client = client_for("master")
    with runtime.transaction() as session:
        session.scalar(select(User).where(User.username == "master")).active = False
    assert not _signed_in_as(client)


def test_every_sign_in_attempt_is_recorded(app, runtime):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Probe/1.0 " + "x" * 500
    assert sign_in(client, "master", "wrong").status_code == 401
    assert sign_in(client, "nobody").status_code == 401
    assert sign_in(client, "master").status_code == 302
    assert _sign_ins(runtime) == [("master", False, "password", sessions.WRONG_PASSWORD),
                                  ("nobody", False, "password", sessions.WRONG_PASSWORD),
                                  ("master", True, "password", None)]
    with runtime.reading() as session:
        rows = session.execute(select(SignIn.remote_addr, SignIn.user_agent, SignIn.at)).all()
    assert {address for address, _, _ in rows} == {"127.0.0.1"}
    assert all(agent.startswith("Probe/1.0 x") and len(agent) == 200 for _, agent, _ in rows)
    assert {at for _, _, at in rows} == {runtime.clock.now()}


OIDC = {"oidc_issuer": "https://login.example.ac.uk", "oidc_client_id": "hsm", "oidc_client_secret": "secret"}


@pytest.fixture
def oidc_app(deployed, monkeypatch):
    monkeypatch.setattr(deployed, "settings", replace(deployed.settings, **OIDC))
    return create_app(deployed)


def _provider_says(monkeypatch, app, claims):
    client = app.extensions["authlib.integrations.flask_client"].sso
    monkeypatch.setattr(client, "authorize_access_token", lambda **_: {"userinfo": claims})


def test_single_sign_on_uses_the_same_sessions_and_records(oidc_app, runtime, monkeypatch):
    _provider_says(monkeypatch, oidc_app, {"sub": "x1", "preferred_username": "master"})
    client = oidc_app.test_client()
    assert client.get("/login/sso/callback?code=abc&state=xyz").status_code == 302
    with runtime.reading() as session:
        [row] = session.scalars(select(WebSession))
        assert (row.user.username, row.method) == ("master", sessions.SINGLE_SIGN_ON)
    assert post(client, "/logout").status_code == 302
    _provider_says(monkeypatch, oidc_app, {"sub": "x2", "preferred_username": "someone_else"})
    assert oidc_app.test_client().get("/login/sso/callback?code=abc&state=xyz").status_code == 403
    assert _sign_ins(runtime) == [("master", True, "oidc", None),
                                  ("someone_else", False, "oidc", sessions.NO_ACCOUNT)]


def test_a_provider_error_is_recorded_as_a_failed_sign_in(oidc_app, runtime):
    assert oidc_app.test_client().get("/login/sso/callback?error=access_denied&state=xyz").status_code == 401
    [(username, success, method, reason)] = _sign_ins(runtime)
    assert (username, success, method) == ("", False, "oidc") and reason.startswith("provider: ")
