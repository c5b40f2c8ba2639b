"""Small helpers the blueprints share: the runtime, the signed-in user, safe redirects."""
from __future__ import annotations

from urllib.parse import unquote

from flask import current_app, g
from werkzeug.exceptions import Unauthorized

from ..services.access import Principal
from ..services.runtime import Runtime


def runtime_of() -> Runtime:
    return current_app.extensions["hsm_runtime"]


def user() -> Principal:
    """The signed-in user (views behind ``login_required`` always have one)."""
    if g.get("user") is None:
        raise Unauthorized()
    return g.user


def _is_local_path(target: str) -> bool:
    """A path of this site: one leading "/", no "//", no backslash, no control character.

    Browsers drop tabs and line breaks from URLs and read "\\" as "/", so ``/%09/evil.example/``
    or ``/\\evil.example`` would leave the site; the check is made on the decoded form too.
    """
    for form in (target, unquote(target)):
        if not form.startswith("/") or "//" in form or "\\" in form:
            return False
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in form):
            return False
    return True


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    return target if target and _is_local_path(target) else default
