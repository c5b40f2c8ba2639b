"""The Flask web app (application factory): task inbox, case files, admin console,
process deployment and the JSON API, each a blueprint calling the service layer."""
from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFProtect

from ..config import Settings
from ..services.cases import count_cases
from ..services.runtime import Runtime
from . import admin, api, auth, cases, errors, filters, inbox, oidc, processes
from .util import runtime_of

csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _config_from_env(settings: Settings) -> dict[str, Any]:
    return {
        "SECRET_KEY": settings.secret_key,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("HSM_SECURE_COOKIES") == "1",
        "SESSION_COOKIE_NAME": "hsm_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked in _protect, which spares token-authenticated API calls
        "WTF_CSRF_TIME_LIMIT": None,  # valid as long as the session
        "HSM_OIDC_ISSUER": os.environ.get("HSM_OIDC_ISSUER", ""),
        "HSM_OIDC_CLIENT_ID": os.environ.get("HSM_OIDC_CLIENT_ID", ""),
        "HSM_OIDC_CLIENT_SECRET": os.environ.get("HSM_OIDC_CLIENT_SECRET", ""),
    }


def create_app(runtime: Runtime | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """The app for ``runtime``; ``config`` overrides settings read from the environment."""
    runtime = runtime or Runtime(Settings.from_env())
    app = Flask(__name__)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.config.from_mapping(_config_from_env(runtime.settings))
    app.config.update(config or {})
    app.extensions["hsm_runtime"] = runtime
    csrf.init_app(app)
    app.before_request(_protect)
    app.after_request(_security_headers)
    for blueprint in (auth.bp, inbox.bp, cases.bp, admin.bp, processes.bp, api.bp):
        app.register_blueprint(blueprint)
    oidc.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    app.context_processor(lambda: {"oidc_enabled": "oidc" in app.blueprints})

    @app.get("/health")
    def health():
        return jsonify(status="ok", cases=count_cases(runtime_of()))

    return app


def _protect() -> None:
    """CSRF check on every unsafe request, except API calls that carry a Bearer token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.blueprint == api.bp.name and api.bearer_token() is not None:
        return
    csrf.protect()


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
