"""What an attacker tried: open redirects through next=, guessing passwords, reading /health,
the Server header, cookies without Secure, and the signing key."""
from __future__ import annotations

import os
import stat
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from hsm_workflow.config import SECRET_KEY_FILE, Settings
from hsm_workflow.db.models import SignIn
from hsm_workflow.services import sessions
from hsm_workflow.web import create_app, is_loopback
from hsm_workflow.web.util import local_path

from .helpers import csrf_token, sign_in, text

OFF_SITE = ["//evil.example/", "/%09/evil.example/", "/\t/evil.example/", "/\\evil.example", "/%5Cevil.example",
            "/%2F/evil.example", "https://evil.example/", "evil.example", "/ok%0d%0aSet-Cookie:x=1",
            "/ok\r\nSet-Cookie: x=1", "/%0d/evil.example", "/x%7f", "/a//b"]


def _sign_in_with_next(app, target: str):
    client = app.test_client()
    return client.post("/login", data={"username": "master", "password": "demo", "csrf_token": csrf_token(client),
                                       "next": target})


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_path_off_this_site_is_not_local(target):
    assert local_path(target, "/") == "/"


@pytest.mark.parametrize("target", ["/", "/cases/HSM-2026-0001", "/tasks/3?tab=form", "/admin?status=error",
                                    "/cases/HSM%202026"])
def test_a_path_of_this_site_is_local(target):
    assert local_path(target, "/inbox") == target


def test_sign_in_never_redirects_off_this_site(app):
    for target in ("//evil.example/", "/%09/evil.example/", "/\\evil.example", "/x%0d%0aLocation:%20//evil",
                   "/x\r\nLocation: //evil"):
        response = _sign_in_with_next(app, target)
        assert (response.status_code, response.location) == (302, "/"), target
    assert _sign_in_with_next(app, "/cases/HSM-2026-0001").location == "/cases/HSM-2026-0001"


def test_the_sign_in_page_takes_any_next_without_failing(app):
    for query in ("/%09/evil.example/", "%0d%0a", "/x%0dy", "/x%0ay", "//evil"):
        response = app.test_client().get(f"/login?next={query}")
        assert response.status_code == 200, query
        assert 'name="next" value="/"' in text(response)


# --- guessing passwords ----------------------------------------------------------------------
def _failures(runtime, reason: str) -> int:
    with runtime.reading() as session:
        return len(session.scalars(select(SignIn.id).where(SignIn.reason == reason)).all())


def test_the_sixth_wrong_password_in_a_minute_gets_429_and_is_recorded(app, runtime):
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, "master", "wrong").status_code == 401
    response = sign_in(client, "master", "demo")  # even the right one, until the minute is over
    assert response.status_code == 429
    assert "Too many sign-in attempts" in text(response) and 'name="username"' in text(response)
    assert _failures(runtime, sessions.RATE_LIMITED) == 1
    assert _failures(runtime, sessions.WRONG_PASSWORD) == 5
    assert sign_in(client, "caseworker").status_code == 302  # another account from the same address


def test_the_account_limit_ignores_case_and_spaces(app):
    client = app.test_client()
    for name in ("master", "Master", " MASTER ", "master", "mAster"):
        assert sign_in(client, name, "wrong").status_code == 401
    assert sign_in(client, "master", "wrong").status_code == 429


def test_successful_sign_ins_do_not_use_up_the_limit(app):
    client = app.test_client()
    for _ in range(8):
        assert sign_in(client, "master").status_code == 302


def test_many_accounts_from_one_address_are_limited(deployed, monkeypatch):
    monkeypatch.setattr(deployed, "settings", replace(deployed.settings, sign_in_limit_per_address="3/minute"))
    client = create_app(deployed).test_client()
    for name in ("a", "b", "c"):
        assert sign_in(client, name, "wrong").status_code == 401
    assert sign_in(client, "d", "wrong").status_code == 429
    other = create_app(deployed).test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert sign_in(other, "d", "wrong").status_code == 401


def test_the_limits_and_their_storage_come_from_settings(deployed, monkeypatch):
    monkeypatch.setattr(deployed, "settings", replace(deployed.settings, sign_in_limit_per_user="2/hour",
                                                      rate_limit_storage="memory://"))
    client = create_app(deployed).test_client()
    for _ in range(2):
        assert sign_in(client, "master", "wrong").status_code == 401
    assert sign_in(client, "master", "wrong").status_code == 429


# --- what the server tells anyone ------------------------------------------------------------
def test_health_tells_anonymous_callers_only_that_it_is_up(app, case):
    response = app.test_client().get("/health")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_no_response_names_the_server_software(client_for, app):
    for response in (app.test_client().get("/health"), app.test_client().get("/login"),
                     app.test_client().get("/nothing-here"), client_for("master").get("/")):
        assert response.headers["Server"] == "hsm-workflow"


# --- cookies -----------------------------------------------------------------------------------
def _cookie_flags(app) -> str:
    return sign_in(app.test_client(), "master").headers["Set-Cookie"]


LOOPBACK = {"127.0.0.1": True, "::1": True, "[::1]": True, "localhost": True, "127.0.1.1": True,
            "0.0.0.0": False, "192.0.2.10": False, "hsm.example.ac.uk": False, None: False}


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_hosts(host):
    assert is_loopback(host) is LOOPBACK[host]


def test_cookies_are_secure_unless_served_on_loopback(deployed):
    for host, secure in (("127.0.0.1", False), ("::1", False), ("0.0.0.0", True), ("hsm.example.ac.uk", True),
                         (None, True)):
        flags = _cookie_flags(create_app(deployed, host=host))
        assert ("Secure" in flags) is secure, host
        assert "HttpOnly" in flags and "SameSite=Lax" in flags


def test_the_secure_cookies_setting_overrides_the_host(deployed, monkeypatch):
    for setting, host, secure in ((False, "0.0.0.0", False), (True, "127.0.0.1", True)):
        monkeypatch.setattr(deployed, "settings", replace(deployed.settings, secure_cookies=setting))
        assert ("Secure" in _cookie_flags(create_app(deployed, host=host))) is secure


@pytest.mark.parametrize("value,parsed", [("1", True), ("0", False), ("", None)])
def test_hsm_secure_cookies_is_read_from_the_environment(monkeypatch, value, parsed):
    monkeypatch.setenv("HSM_SECURE_COOKIES", value)
    assert Settings.from_env().secure_cookies is parsed


# --- the signing key ---------------------------------------------------------------------------
def test_without_hsm_secret_key_a_random_key_is_made_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("HSM_SECRET_KEY", raising=False)
    monkeypatch.setenv("HSM_INSTANCE_DIR", str(tmp_path / "instance"))
    settings = Settings.from_env()
    assert settings.secret_key is None and settings.instance_dir == tmp_path / "instance"
    key = settings.signing_key()
    path = tmp_path / "instance" / SECRET_KEY_FILE
    assert path.read_text().strip() == key and len(key) >= 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert Settings.from_env().signing_key() == key
    assert os.listdir(path.parent) == [SECRET_KEY_FILE]  # no temporary file left behind
    other = tmp_path / "elsewhere"
    assert replace(settings, instance_dir=other).signing_key() != key


def test_hsm_secret_key_is_used_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("HSM_SECRET_KEY", "a-key-from-the-deployment")
    monkeypatch.setenv("HSM_INSTANCE_DIR", str(tmp_path))
    assert Settings.from_env().signing_key() == "a-key-from-the-deployment"
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def test_the_app_signs_with_the_instance_key(deployed, monkeypatch, tmp_path):
    monkeypatch.setattr(deployed, "settings", replace(deployed.settings, secret_key=None, instance_dir=tmp_path))
    app = create_app(deployed)
    assert app.config["SECRET_KEY"] == (tmp_path / SECRET_KEY_FILE).read_text().strip()


def test_an_empty_key_file_is_refused_not_used(tmp_path):
    (tmp_path / SECRET_KEY_FILE).write_text("\n")
    settings = replace(Settings.from_env(), secret_key=None, instance_dir=tmp_path)
    with pytest.raises(RuntimeError, match="is empty"):
        settings.signing_key()


def test_the_session_timeouts_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("HSM_SESSION_IDLE_MINUTES", "10")
    monkeypatch.setenv("HSM_SESSION_LIFETIME_MINUTES", "120")
    settings = Settings.from_env()
    assert (settings.session_idle_timeout, settings.session_lifetime) == (timedelta(minutes=10), timedelta(hours=2))
