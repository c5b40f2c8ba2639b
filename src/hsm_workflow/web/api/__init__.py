"""The JSON API for integrations, under /api/v1.

Callers authenticate with a personal token (``Authorization: Bearer hsm_...``), or with
the browser session, in which case unsafe requests need the CSRF token in ``X-CSRFToken``.
Errors are ``{"error": message, "fields": {field: [messages]}}``.

Each route declares what it accepts and answers once, with :func:`operation`: :func:`body`
and :func:`query` validate with those schemas and the OpenAPI document is built from them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, g, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from ...errors import InvalidData
from ...services import access, tokens
from ..inputs import MAX_JSON_BYTES, parse_json
from ..util import runtime_of

bp = Blueprint("api", __name__, url_prefix="/api/v1")
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """One route's contract: its answer on success and the refusals it can give besides the
    ones every route can (401, 422 for unstorable text, 429; 400 for unsafe methods)."""

    operation_id: str
    summary: str
    tag: str
    ok: type[Schema]
    status: int = 200
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    public: bool = False


OPERATIONS: dict[str, Operation] = {}
"""Operations by endpoint name."""


def operation(operation_id: str, summary: str, *, tag: str, ok: type[Schema], status: int = 200,
              body: type[Schema] | None = None, query: type[Schema] | None = None,
              errors: tuple[int, ...] = (), public: bool = False) -> Callable[[View], View]:
    """Declare the view's contract (put it under the route decorator)."""
    def register(view: View) -> View:
        OPERATIONS[f"{bp.name}.{view.__name__}"] = Operation(operation_id, summary, tag, ok, status, body, query,
                                                             errors, public)
        return view
    return register


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@bp.before_request
def authenticate():
    token = bearer_token()
    if token is not None:
        username = tokens.authenticate(runtime_of(), token)
        g.user = access.principal(runtime_of(), username) if username else None
    declared = OPERATIONS.get(request.endpoint or "")
    if g.user is None and not (declared and declared.public):
        response = jsonify(error="sign in, or send a valid API token as 'Authorization: Bearer <token>'", fields={})
        response.headers["WWW-Authenticate"] = 'Bearer realm="hsm-workflow"'
        return response, 401
    return None


def _flat(messages: Mapping[str, Any] | list, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{"field.sub": [message]}``, the API's error shape."""
    if isinstance(messages, list):
        return {prefix or "_schema": [str(message) for message in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _load(schema: type[Schema] | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` validated with ``schema``; 422 naming the fields otherwise."""
    if schema is None:
        raise LookupError(f"{request.endpoint} declares no schema for this")
    try:
        return schema().load(data)
    except ValidationError as error:
        raise InvalidData("the request data is not valid", _flat(error.messages)) from None


def body() -> dict[str, Any]:
    """The request's JSON object, validated with the route's body schema.

    Parsed strictly (inputs.parse_json): no NaN or Infinity, no NUL or lone surrogate in any
    string, at most 32 levels deep, at most 1 MiB.
    """
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise RequestEntityTooLarge(f"Send at most {MAX_JSON_BYTES // 1024} KiB of JSON.")
    data = parse_json(raw) if request.is_json else None
    if not isinstance(data, dict):
        raise InvalidData("send a JSON object with Content-Type: application/json",
                          {"_schema": ["Expected a JSON object."]})
    return _load(OPERATIONS[request.endpoint].body, data)


def query() -> dict[str, Any]:
    """The query string, validated with the route's query schema."""
    return _load(OPERATIONS[request.endpoint].query, request.args.to_dict())


from . import views  # noqa: E402,F401  (routes register on bp)
