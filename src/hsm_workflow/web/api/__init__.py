"""The JSON API for integrations, under /api/v1.

Callers authenticate with a personal token (``Authorization: Bearer hsm_...``), or with
the browser session, in which case unsafe requests need the CSRF token in ``X-CSRFToken``.
Errors are ``{"error": message, "fields": {field: [messages]}}``.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from marshmallow import Schema, ValidationError

from ...errors import InvalidData
from ...services import access, tokens
from ..util import runtime_of

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC = {"api.openapi"}


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@bp.before_request
def authenticate():
    token = bearer_token()
    if token is not None:
        username = tokens.authenticate(runtime_of(), token)
        g.user = access.principal(runtime_of(), username) if username else None
    if g.user is None and request.endpoint not in PUBLIC:
        response = jsonify(error="sign in, or send a valid API token as 'Authorization: Bearer <token>'", fields={})
        response.headers["WWW-Authenticate"] = 'Bearer realm="hsm-workflow"'
        return response, 401
    return None


def load(schema: Schema, data: Any) -> dict:
    """Validated request data; 422 naming the fields otherwise."""
    try:
        return schema.load(data if data is not None else {})
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise InvalidData("the request data is not valid", messages) from None


def body() -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidData("send a JSON object with Content-Type: application/json",
                          {"_schema": ["Expected a JSON object."]})
    return data


from . import views  # noqa: E402,F401  (routes register on bp)
