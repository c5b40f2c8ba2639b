"""The Flask web app (application factory): task inbox, case files, admin console,
process deployment and the JSON API, each a blueprint calling the service layer."""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.serving import WSGIRequestHandler

from ..config import Settings
from ..services.runtime import Runtime
from . import admin, api, auth, cases, errors, filters, inbox, oidc, processes, tokens
from .converters import IdConverter
from .inputs import refuse_unstorable_text

csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SERVER = "hsm-workflow"
"""The ``Server`` header of every response: no product versions for an attacker to look up."""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or name the server binds to) only takes local connections."""
    if host is None:
        return False
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _flask_config(settings: Settings, host: str | None) -> dict[str, Any]:
    secure = settings.secure_cookies if settings.secure_cookies is not None else not is_loopback(host)
    return {
        "SECRET_KEY": settings.signing_key(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_NAME": "hsm_session",
        "PERMANENT_SESSION_LIFETIME": settings.session_lifetime,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked in _protect, which spares token-authenticated API calls
        "WTF_CSRF_TIME_LIMIT": None,  # valid as long as the session
    }


def create_app(runtime: Runtime | None = None, config: Mapping[str, Any] | None = None, *,
               host: str | None = None) -> Flask:
    """The app for ``runtime``; ``config`` overrides Flask settings.

    ``host`` is the address the server binds to: session cookies are ``Secure`` unless it is a
    loopback address (or HSM_SECURE_COOKIES says otherwise). Unknown (None), they are Secure.
    """
    runtime = runtime or Runtime(Settings.from_env())
    app = Flask(__name__)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.config.from_mapping(_flask_config(runtime.settings, host))
    app.config.update(config or {})
    app.extensions["hsm_runtime"] = runtime
    csrf.init_app(app)
    app.before_request(_protect)
    app.before_request(refuse_unstorable_text)
    app.after_request(_security_headers)
    for blueprint in (auth.bp, inbox.bp, cases.bp, admin.bp, tokens.bp, processes.bp, api.bp):
        app.register_blueprint(blueprint)
    auth.init_app(app, runtime.settings)
    oidc.init_app(app, runtime.settings)
    errors.init_app(app)
    filters.init_app(app)
    app.context_processor(lambda: {"oidc_enabled": "oidc" in app.blueprints})

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    return app


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without its own ``Server`` header, which names the Werkzeug
    and Python versions; the app's ``Server: hsm-workflow`` is the only one sent."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


def _protect() -> None:
    """CSRF check on every unsafe request, except API calls that carry a Bearer token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.path.startswith(f"{api.bp.url_prefix}/") and api.bearer_token() is not None:
        return
    csrf.protect()


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers["Server"] = SERVER
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
