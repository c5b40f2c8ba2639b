"""Small helpers the blueprints share: the runtime, the signed-in user, safe redirects."""
from __future__ import annotations

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


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return default
