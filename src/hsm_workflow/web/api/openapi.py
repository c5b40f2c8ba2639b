"""The OpenAPI 3 document of /api/v1, generated from the routes' declared schemas (apispec)."""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from ..converters import ID_MAX
from . import OPERATIONS, Operation, bp, schemas

INFO = {"description": "Cases, tasks and messages of the harassment and sexual misconduct procedures. "
                       "A user sees only the cases they have a part in (need-to-know); any other case "
                       "is answered 404."}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "A personal API token (created with the hsm-workflow command)."},
    "session": {"type": "apiKey", "in": "cookie", "name": "hsm_session",
                "description": "The browser session; unsafe requests also need the X-CSRFToken header."},
}
ERRORS = {400: ("BadRequest", "Missing CSRF token (session-cookie callers only)"),
          401: ("Unauthorized", "Not signed in, or the token is not valid"),
          403: ("Forbidden", "Not allowed for this user"),
          404: ("NotFound", "No such case or task, or the user may not see it"),
          409: ("Conflict", "Not possible in the case's current state (or lost a race); nothing changed"),
          413: ("TooLarge", "The request body is too large"),
          422: ("Invalid", "Invalid request data (or text that cannot be stored); `fields` names each field's problems"),
          429: ("TooMany", "Too many requests; try again later"),
          500: ("StepFailed", "The engine failed to run the step; nothing changed")}
"""Refusals by status: the name of their response component and what they mean."""
PATH_EXAMPLES = {"reference": "HSM-2026-0001"}


ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
"""A path argument in a Werkzeug rule: ``<name>``, ``<int:name>``, ``<int(max=9):name>``."""


def _path(rule: Rule) -> str:
    return ARGUMENT.sub(r"{\2}", rule.rule.removeprefix(bp.url_prefix or ""))


def _path_parameters(app: Flask, rule: Rule) -> list[dict[str, Any]]:
    parameters = []
    for converter, name in ARGUMENT.findall(rule.rule):
        if issubclass(app.url_map.converters[converter or "default"], IntegerConverter):
            schema: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": ID_MAX}
        else:
            schema = {"type": "string"}
        parameter = {"name": name, "in": "path", "required": True, "schema": schema}
        if name in PATH_EXAMPLES:
            parameter["example"] = PATH_EXAMPLES[name]
        parameters.append(parameter)
    return parameters


def _error_codes(declared: Operation, method: str, rule: Rule) -> list[int]:
    codes = {422, *declared.errors}
    if not declared.public:
        codes |= {401, 429}
    if method != "get":
        codes.add(400)
    if rule.arguments:
        codes.add(404)
    if declared.body:
        codes.add(413)
    return sorted(codes)


def _operation(app: Flask, declared: Operation, method: str, rule: Rule) -> dict[str, Any]:
    parameters = _path_parameters(app, rule)
    if declared.query:
        parameters.append({"in": "query", "schema": declared.query})
    answer = {"description": declared.summary, "content": {"application/json": {"schema": declared.ok}}}
    errors = {code: ERRORS[code][0] for code in _error_codes(declared, method, rule)}
    spec: dict[str, Any] = {"operationId": declared.operation_id, "summary": declared.summary,
                            "tags": [declared.tag], "parameters": parameters,
                            "responses": {declared.status: answer, **errors}}
    if declared.body:
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": declared.body}}}
    if declared.public:
        spec["security"] = []
    return spec


def build(app: Flask) -> dict[str, Any]:
    """The document for the API routes of ``app``; every one of them must declare an operation."""
    spec = APISpec(title="hsm-workflow API", version="1", openapi_version="3.1.0", plugins=[MarshmallowPlugin()],
                   info=INFO, servers=[{"url": bp.url_prefix}], security=[{"bearer": []}, {"session": []}])
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    for name, description in ERRORS.values():
        spec.components.response(name, {"description": description,
                                        "content": {"application/json": {"schema": schemas.Error}}})
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.partition(".")[0] != bp.name:
            continue
        declared = OPERATIONS[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(_path(rule), {})[method.lower()] = _operation(app, declared, method.lower(), rule)
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def document(app: Flask) -> dict[str, Any]:
    """:func:`build`, once per app."""
    if "hsm_openapi" not in app.extensions:
        app.extensions["hsm_openapi"] = build(app)
    return app.extensions["hsm_openapi"]
