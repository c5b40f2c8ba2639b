"""OpenID Connect sign-in (Authlib), on only when HSM_OIDC_ISSUER, HSM_OIDC_CLIENT_ID and
HSM_OIDC_CLIENT_SECRET are set. The ``preferred_username`` claim names the local user."""
from __future__ import annotations

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for

from ..services import access
from .auth import sign_in
from .util import runtime_of

bp = Blueprint("oidc", __name__, url_prefix="/login/sso")
SETTINGS = ("HSM_OIDC_ISSUER", "HSM_OIDC_CLIENT_ID", "HSM_OIDC_CLIENT_SECRET")


def init_app(app: Flask) -> None:
    if not all(app.config.get(name) for name in SETTINGS):
        return
    oauth = OAuth(app)
    oauth.register(
        "sso",
        client_id=app.config["HSM_OIDC_CLIENT_ID"],
        client_secret=app.config["HSM_OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["HSM_OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
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
        return _refused(f"Signing in with your institution account did not work ({error.error}). Try again.", 401)
    claims = token.get("userinfo") or _client().userinfo(token=token)
    username = claims.get("preferred_username") or ""
    principal = access.principal(runtime_of(), username) if username else None
    if principal is None:
        return _refused("Your sign-in worked, but there is no account here for you. Ask an administrator to add one.",
                        403)
    sign_in(principal, "oidc")
    flash(f"Signed in as {principal.display_name}.")
    return redirect(url_for("inbox.index"))
