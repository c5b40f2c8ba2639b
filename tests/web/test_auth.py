"""Signing in and out, session cookies, CSRF and OpenID Connect."""
from __future__ import annotations

from dataclasses import replace

import pytest

from hsm_workflow.web import create_app

from .helpers import csrf_token, post, sign_in, text


def test_pages_need_a_signed_in_user(app):
    response = app.test_client().get("/cases/HSM-2026-0001")
    assert response.status_code == 302
    assert response.location == "/login?next=/cases/HSM-2026-0001"


def test_sign_in_with_the_demo_password_lands_on_the_inbox(app):
    client = app.test_client()
    response = sign_in(client, "master")
    assert (response.status_code, response.location) == (302, "/")
    assert "Signed in as <strong>Master</strong>" in text(client.get("/"))


def test_a_wrong_password_or_unknown_user_is_refused_alike(app):
    client = app.test_client()
    for username, password in (("master", "wrong"), ("nobody", "demo")):
        response = sign_in(client, username, password)
        assert response.status_code == 401
        assert "The username or password is not right." in text(response)
    assert client.get("/").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(app):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"username": "master", "password": "demo", "csrf_token": token,
                                           "next": "/cases/HSM-2026-0001"})
    assert response.location == "/cases/HSM-2026-0001"
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client = app.test_client()
        token = csrf_token(client)
        response = client.post("/login", data={"username": "master", "password": "demo", "csrf_token": token,
                                               "next": target})
        assert response.location == "/"


def test_the_session_cookie_is_http_only_and_same_site_lax(deployed):
    response = sign_in(create_app(deployed, host="127.0.0.1").test_client(), "master")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_when_asked(deployed, monkeypatch):
    monkeypatch.setattr(deployed, "settings", replace(deployed.settings, secure_cookies=True))
    app = create_app(deployed, host="127.0.0.1")
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", base_url="https://localhost",
                           data={"username": "master", "password": "demo", "csrf_token": token},
                           headers={"Referer": "https://localhost/login"})
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_post_without_the_csrf_token_is_refused(app):
    client = app.test_client()
    response = client.post("/login", data={"username": "master", "password": "demo"})
    assert response.status_code == 400
    assert "did not come from this site" in text(response)


def test_sign_out_ends_the_session(client_for):
    client = client_for("master")
    assert client.post("/logout").status_code == 400  # CSRF protects sign-out too
    response = post(client, "/logout")
    assert response.location == "/login"
    assert client.get("/").status_code == 302


def test_security_headers(client_for):
    response = client_for("master").get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_openid_connect_is_off_unless_configured(app):
    assert "oidc" not in app.blueprints
    assert app.test_client().get("/login/sso").status_code == 404
    assert "institution account" not in text(app.test_client().get("/login"))


OIDC = {"oidc_issuer": "https://login.example.ac.uk", "oidc_client_id": "hsm", "oidc_client_secret": "secret"}


@pytest.fixture
def oidc_app(deployed, monkeypatch):
    monkeypatch.setattr(deployed, "settings", replace(deployed.settings, **OIDC))
    return create_app(deployed)


def _fake_provider(monkeypatch, app, claims):
    client = app.extensions["authlib.integrations.flask_client"].sso
    monkeypatch.setattr(client, "authorize_access_token", lambda **_: {"userinfo": claims})


def test_openid_connect_maps_preferred_username_to_the_local_user(oidc_app, monkeypatch):
    assert "institution account" in text(oidc_app.test_client().get("/login"))
    _fake_provider(monkeypatch, oidc_app, {"sub": "x1", "preferred_username": "master"})
    client = oidc_app.test_client()
    response = client.get("/login/sso/callback?code=abc&state=xyz")
    assert (response.status_code, response.location) == (302, "/")
    assert "Signed in as <strong>Master</strong>" in text(client.get("/"))


def test_openid_connect_without_a_local_account_is_refused(oidc_app, monkeypatch):
    _fake_provider(monkeypatch, oidc_app, {"sub": "x2", "preferred_username": "someone_else"})
    client = oidc_app.test_client()
    response = client.get("/login/sso/callback?code=abc&state=xyz")
    assert response.status_code == 403
    assert "no account here for you" in text(response)
    assert client.get("/").status_code == 302


def test_openid_connect_start_redirects_to_the_provider(oidc_app, monkeypatch):
    client = oidc_app.extensions["authlib.integrations.flask_client"].sso
    monkeypatch.setattr(client, "load_server_metadata", lambda: {
        "authorization_endpoint": "https://login.example.ac.uk/authorize", "issuer": OIDC["oidc_issuer"]})
    response = oidc_app.test_client().get("/login/sso")
    assert response.status_code == 302
    assert response.location.startswith("https://login.example.ac.uk/authorize?")
    assert "redirect_uri=http%3A%2F%2Flocalhost%2Flogin%2Fsso%2Fcallback" in response.location


def test_health_needs_no_sign_in(app, case):
    assert app.test_client().get("/health").json == {"status": "ok"}


def test_openid_connect_errors_from_the_provider_are_explained(oidc_app):
    response = oidc_app.test_client().get("/login/sso/callback?error=access_denied&state=xyz")
    assert response.status_code == 401
    assert "did not work" in text(response)
