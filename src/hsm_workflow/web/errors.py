"""Turning refusals into answers: an HTML page, or JSON ``{error, fields}`` under the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import Conflict, Forbidden, HsmError, InvalidData, NotFound, StepFailed, UnknownMessage

STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, UnknownMessage: 409, InvalidData: 422, StepFailed: 422}
TITLES = {400: "Bad request", 401: "Sign in needed", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 409: "Not possible now", 413: "File too large", 422: "Invalid data",
          500: "Something went wrong"}


def status_of(error: HsmError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)


NOT_HERE = "There is nothing here, or you do not have access to it."


def _answer(status: int, message: str, fields: dict | None = None):
    if request.blueprint == "api" or request.path.startswith("/api/"):
        return jsonify(error=message, fields=fields or {}), status
    return render_template("errors/error.html", status=status, title=TITLES.get(status, "Error"),
                           message=NOT_HERE if status == 404 else message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(HsmError)
    def refused(error: HsmError):
        fields = error.errors if isinstance(error, InvalidData) else None
        return _answer(status_of(error), str(error), fields)

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        return _answer(400, f"The form had expired or did not come from this site ({error.description}). "
                            "Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        messages = {403: "Your account is not allowed to use this page."}
        return _answer(error.code or 500, messages.get(error.code, error.description))
