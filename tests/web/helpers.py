"""Helpers for the web tests: signing in with the Flask test client and reading pages."""
from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

HERE = Path(__file__).resolve().parent
LOOP_WITH_LAYOUT = HERE / "fixtures" / "review_loop.bpmn"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STRANGER = "emmanuel_senior_tutor"  # holds a role only in another college


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = "demo"):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def post(client: FlaskClient, path: str, data: dict | None = None, *, token_from: str = "/", **kwargs):
    """A form POST carrying a valid CSRF token (taken from a page the user can open)."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, token_from)}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)
