"""OpenID Connect sign-in (Authlib), on only when HSM_OIDC_ISSUER, HSM_OIDC_CLIENT_ID and
HSM_OIDC_CLIENT_SECRET are set. The ``preferred_username`` claim names the local user, who
gets a session exactly as a local sign-in does; failures are recorded as sign-in attempts."""
from __future__ import annotations

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, flash, redirect, render_template, session, url_for

from ..config import Settings
from ..services import sessions
from .auth import SESSION_ID, attempt, start_session
from .util import runtime_of

bp = Blueprint("oidc", __name__, url_prefix="/login/sso")


def init_app(app: Flask, settings: Settings) -> None:
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return
    oauth = OAuth(app)
    oauth.register(
        "sso",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email"},
    )
    app.register_blueprint(bp)


def _client():
    return current_app.extensions["authlib.integrations.flask_client"].sso


@bp.get("")
def start():
    return _client().authorize_redirect(url_for("oidc.callback", _external=True))


def _refused(message: str, status: int):
    return render_template("auth/login.html", next=url_for("inbox.index"), error=message), status


@bp.get("/callback")
def callback():
    try:
        token = _client().authorize_access_token()
    except OAuthError as error:
        sessions.record_failure(runtime_of(), attempt("", sessions.SINGLE_SIGN_ON), f"provider: {error.error}")
        return _refused(f"Signing in with your institution account did not work ({error.error}). Try again.", 401)
    claims = token.get("userinfo") or _client().userinfo(token=token)
    signed = sessions.sign_in_vouched(runtime_of(), attempt(claims.get("preferred_username") or "",
                                                            sessions.SINGLE_SIGN_ON),
                                      replacing=session.get(SESSION_ID))
    if signed is None:
        return _refused("Your sign-in worked, but there is no account here for you. Ask an administrator to add one.",
                        403)
    start_session(signed)
    flash(f"Signed in as {signed.principal.display_name}.")
    return redirect(url_for("inbox.index"))
