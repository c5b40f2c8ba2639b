"""Signing in and out with a local account, and the guards the other blueprints use."""
from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from ..services import access
from .util import local_path, runtime_of

bp = Blueprint("auth", __name__)


@bp.before_app_request
def load_user() -> None:
    username = session.get("user") if request.endpoint != "static" else None
    g.user = access.principal(runtime_of(), username) if username else None


def sign_in(principal: access.Principal, method: str) -> None:
    """Start a fresh session for ``principal`` (a new cookie, so no fixation)."""
    session.clear()
    session["user"], session["method"] = principal.username, method
    session.permanent = True


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)
    return wrapped


def permission_required(permission: str, status: int = 403) -> Callable[[Callable], Callable]:
    """Views for users with a :class:`~hsm_workflow.services.access.Principal` permission."""
    def decorate(view: Callable) -> Callable:
        @login_required
        @functools.wraps(view)
        def wrapped(**kwargs):
            if not getattr(g.user, permission):
                abort(status)
            return view(**kwargs)
        return wrapped
    return decorate


@bp.route("/login", methods=("GET", "POST"))
def login():
    target = local_path(request.values.get("next"), url_for("inbox.index"))
    if request.method == "GET":
        return render_template("auth/login.html", next=target)
    username = request.form.get("username", "").strip()
    principal = access.check_password(runtime_of(), username, request.form.get("password", ""))
    if principal is None:
        return render_template("auth/login.html", next=target, username=username,
                               error="The username or password is not right."), 401
    sign_in(principal, "password")
    return redirect(target)


@bp.post("/logout")
def logout():
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))
