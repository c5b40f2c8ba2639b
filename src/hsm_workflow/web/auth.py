"""Signing in and out with a local account, and the sign-in guard the other blueprints use.

The session cookie carries only the id of a server-side session (:mod:`..services.sessions`
decides whether it is live). Sign-in attempts are rate limited per account and per address.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from flask import (Blueprint, Flask, Response, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from ..config import Settings
from ..services import sessions
from .util import local_path, runtime_of

bp = Blueprint("auth", __name__)
SESSION_ID = "sid"
WRONG = "The username or password is not right."
TOO_MANY = ("Too many sign-in attempts for this account or from this address. "
            "Wait a few minutes, then try again.")


@bp.before_app_request
def load_user() -> None:
    """``g.user`` from a live session; a cookie whose session has ended is dropped."""
    g.user = None
    session_id = session.get(SESSION_ID) if request.endpoint != "static" else None
    if session_id is None:
        return
    g.user = sessions.signed_in(runtime_of(), session_id)
    if g.user is None:
        session.clear()


def attempt(username: str, method: str) -> sessions.Attempt:
    """The sign-in attempt this request makes."""
    return sessions.Attempt(username, method, request.remote_addr, request.user_agent.string)


def start_session(signed: sessions.SignedIn) -> None:
    """Give the browser a fresh cookie for the new session (nothing of the old one is kept)."""
    session.clear()
    session[SESSION_ID] = signed.session_id
    session.permanent = True


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)
    return wrapped


def _target() -> str:
    return local_path(request.values.get("next"), url_for("inbox.index"))


def _username() -> str:
    return request.form.get("username", "").strip()


@bp.route("/login", methods=("GET", "POST"))
def login():
    target = _target()
    if request.method == "GET":
        return render_template("auth/login.html", next=target)
    username = _username()
    signed = sessions.sign_in_with_password(runtime_of(), attempt(username, sessions.PASSWORD),
                                            request.form.get("password", ""), replacing=session.get(SESSION_ID))
    if signed is None:
        return render_template("auth/login.html", next=target, username=username, error=WRONG), 401
    start_session(signed)
    return redirect(target)


@bp.post("/logout")
def logout():
    session_id = session.get(SESSION_ID)
    if session_id:
        sessions.sign_out(runtime_of(), session_id)
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


# --- rate limits on signing in -------------------------------------------------------------
def _account_key() -> str:
    return "account:" + _username().casefold()


def _not_signing_in() -> bool:
    return request.endpoint != "auth.login"


def _refused(response: Response) -> bool:
    """Only refused attempts count against the limits."""
    return response.status_code == 401


def _too_many(_error: RateLimitExceeded):
    sessions.record_failure(runtime_of(), attempt(_username(), sessions.PASSWORD), sessions.RATE_LIMITED)
    return render_template("auth/login.html", next=_target(), username=_username(), error=TOO_MANY), 429


def init_app(app: Flask, settings: Settings) -> None:
    """Limit refused sign-ins per account and per address, counted in the configured storage."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.rate_limit_storage,
                      strategy="moving-window")
    for limits, key, scope in ((settings.sign_in_limit_per_user, _account_key, "account"),
                               (settings.sign_in_limit_per_address, get_remote_address, "address")):
        limiter.limit(limits, key_func=key, scope=scope, methods=["POST"], exempt_when=_not_signing_in,
                      deduct_when=_refused)(bp)
    app.register_error_handler(RateLimitExceeded, _too_many)
