"""The Flask web app (application factory)."""
from __future__ import annotations

from flask import Flask, jsonify

from ..config import Settings
from ..services.runtime import Runtime


def create_app(runtime: Runtime | None = None) -> Flask:
    runtime = runtime or Runtime(Settings.from_env())
    app = Flask(__name__)
    app.config["SECRET_KEY"] = runtime.settings.secret_key
    app.extensions["hsm_runtime"] = runtime

    @app.get("/health")
    def health():
        from ..services.cases import count_cases
        return jsonify(status="ok", cases=count_cases(runtime))

    return app
