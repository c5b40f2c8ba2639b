"""The OpenAPI 3 description of /api/v1, as data (tests check it matches the routes)."""
from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, **_json(schema)}}


def _errors(*codes: str) -> dict[str, Any]:
    texts = {"401": "Not signed in, or the token is not valid", "403": "Not allowed for this user",
             "404": "No such case or task, or the user may not see it",
             "409": "Not possible in the case's current state (or lost a race); nothing changed",
             "422": "Invalid request data; `fields` names each field's problems",
             "400": "Missing CSRF token (session-cookie callers only)",
             "500": "The engine failed to run the step; nothing changed"}
    return {code: {"description": texts[code], **_json(_ref("Error"))} for code in ("401", *codes)}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, **_json(schema)}


REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"},
             "example": "HSM-2026-0001"}
TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer"}}
STRING = {"type": "string"}
NULLABLE_STRING = {"type": "string", "nullable": True}
OBJECT = {"type": "object", "additionalProperties": True}
STATUS = {"type": "string", "enum": ["running", "completed", "suspended", "terminated", "error"]}


def _status_action(verb: str, status: str) -> dict[str, Any]:
    return {"post": {
        "summary": f"{verb.capitalize()} a case (administrators; the reason goes into the case's record)",
        "operationId": f"{verb}Case", "tags": ["admin"], "parameters": [REFERENCE],
        "requestBody": _body(_ref("Reason")),
        "responses": {**_ok("Done", {"type": "object", "properties": {
            "case": STRING, "status": {"type": "string", "enum": [status]}}}),
            **_errors("400", "403", "404", "409", "422")},
    }}


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "fields"], "properties": {
        "error": STRING,
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": STRING}}}},
    "CaseSummary": {"type": "object", "properties": {
        "reference": STRING, "process_id": STRING, "version": {"type": "integer"}, "status": STATUS,
        "unit": STRING, "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": "string", "format": "date-time", "nullable": True}, "parent": NULLABLE_STRING}},
    "CaseFile": {"type": "object", "properties": {
        "summary": _ref("CaseSummary"), "title": STRING,
        "tasks": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": STRING, "element": STRING, "role": STRING, "status": STRING,
            "due_on": {"type": "string", "format": "date", "nullable": True},
            "claimed_by": NULLABLE_STRING, "completed_by": NULLABLE_STRING}}},
        "timers": {"type": "array", "items": {"type": "object", "properties": {
            "name": STRING, "element": STRING, "due_at": {"type": "string", "format": "date-time"},
            "status": STRING}}},
        "letters": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "template": STRING, "title": STRING,
            "created_at": {"type": "string", "format": "date-time"}, "body": STRING}}},
        "events": {"type": "array", "items": {"type": "object", "properties": {
            "at": {"type": "string", "format": "date-time"}, "actor": STRING, "kind": STRING, "summary": STRING}}},
        "linked": {"type": "array", "items": _ref("CaseSummary")},
        "error": NULLABLE_STRING}},
    "InboxTask": {"type": "object", "properties": {
        "id": {"type": "integer"}, "case": STRING, "procedure": STRING, "name": STRING, "role": STRING,
        "due_on": {"type": "string", "format": "date", "nullable": True}, "overdue": {"type": "boolean"},
        "due_soon": {"type": "boolean"}, "claimed_by_me": {"type": "boolean"}}},
    "NextTask": {"type": "object", "properties": {
        "id": {"type": "integer"}, "case": STRING, "name": STRING, "role": STRING,
        "due_on": {"type": "string", "format": "date", "nullable": True}}},
    "StartCase": {"type": "object", "required": ["process_id"], "additionalProperties": False, "properties": {
        "process_id": STRING, "variables": OBJECT,
        "unit": {**NULLABLE_STRING, "description": "unit code (default: the parent's unit, else the default unit)"},
        "parent": {**NULLABLE_STRING, "description": "reference of the case this one is linked to"}}},
    "CompleteTask": {"type": "object", "required": ["data"], "additionalProperties": False, "properties": {
        "data": {**OBJECT, "description": "the task form's fields, by key"}}},
    "Message": {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}, "payload": OBJECT}},
    "Reason": {"type": "object", "required": ["reason"], "additionalProperties": False, "properties": {
        "reason": {"type": "string", "minLength": 1}}},
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "hsm-workflow API", "version": "1",
             "description": "Cases, tasks and messages of the harassment and sexual misconduct procedures. "
                            "A user sees only the cases they have a part in (need-to-know); any other case "
                            "is answered 404."},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}, {"session": []}],
    "paths": {
        "/cases": {
            "get": {"summary": "Cases the user may see, newest first", "operationId": "listCases", "tags": ["cases"],
                    "parameters": [
                        {"name": "status", "in": "query", "schema": STATUS},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                     "maximum": 500, "default": 100}},
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                                      "default": 0}}],
                    "responses": {**_ok("The cases", {"type": "object", "properties": {
                        "cases": {"type": "array", "items": _ref("CaseSummary")}}}), **_errors("422")}},
            "post": {"summary": "Start a case (administrators, or a role holder in the case's unit)",
                     "operationId": "startCase", "tags": ["cases"], "requestBody": _body(_ref("StartCase")),
                     "responses": {**_ok("Started", _ref("CaseSummary"), "201"),
                                   **_errors("400", "403", "404", "409", "422", "500")}},
        },
        "/cases/{reference}": {
            "get": {"summary": "A case file: tasks, timers, letters, events, linked cases",
                    "operationId": "getCase", "tags": ["cases"], "parameters": [REFERENCE],
                    "responses": {**_ok("The case file", _ref("CaseFile")), **_errors("404")}},
        },
        "/cases/{reference}/messages": {
            "post": {"summary": "Deliver a message the case waits for (e.g. police_report_made)",
                     "operationId": "deliverMessage", "tags": ["cases"], "parameters": [REFERENCE],
                     "requestBody": _body(_ref("Message")),
                     "responses": {**_ok("Delivered", {"type": "object", "properties": {
                         "case": STRING, "message": STRING, "delivered": {"type": "boolean"}}}),
                         **_errors("400", "404", "409", "422", "500")}},
        },
        "/cases/{reference}/suspend": _status_action("suspend", "suspended"),
        "/cases/{reference}/resume": _status_action("resume", "running"),
        "/cases/{reference}/terminate": _status_action("terminate", "terminated"),
        "/tasks": {
            "get": {"summary": "The user's inbox: their claimed tasks and their roles' unclaimed ones",
                    "operationId": "listTasks", "tags": ["tasks"],
                    "parameters": [
                        {"name": "process_id", "in": "query", "schema": STRING},
                        {"name": "overdue", "in": "query", "schema": {"type": "boolean", "default": False}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                     "maximum": 500, "default": 200}}],
                    "responses": {**_ok("The inbox", {"type": "object", "properties": {
                        "tasks": {"type": "array", "items": _ref("InboxTask")},
                        "total": {"type": "integer"}}}), **_errors("422")}},
        },
        "/tasks/{task_id}/claim": {
            "post": {"summary": "Claim a task (others with the role stop seeing it)", "operationId": "claimTask",
                     "tags": ["tasks"], "parameters": [TASK_ID],
                     "responses": {**_ok("Claimed", {"type": "object", "properties": {
                         "task": {"type": "integer"}, "claimed_by": STRING}}), **_errors("400", "403", "404", "409")}},
        },
        "/tasks/{task_id}/unclaim": {
            "post": {"summary": "Release a task you claimed", "operationId": "unclaimTask", "tags": ["tasks"],
                     "parameters": [TASK_ID],
                     "responses": {**_ok("Released", {"type": "object", "properties": {
                         "task": {"type": "integer"}, "claimed_by": NULLABLE_STRING}}),
                         **_errors("400", "404", "409")}},
        },
        "/tasks/{task_id}/complete": {
            "post": {"summary": "Complete a task with its form's data", "operationId": "completeTask",
                     "tags": ["tasks"], "parameters": [TASK_ID], "requestBody": _body(_ref("CompleteTask")),
                     "responses": {**_ok("Completed; next_task is the user's next task in the case, if any",
                                         {"type": "object", "properties": {
                                             "task": {"type": "integer"}, "completed": {"type": "boolean"},
                                             "next_task": {"allOf": [_ref("NextTask")], "nullable": True}}}),
                                   **_errors("400", "403", "404", "409", "422", "500")}},
        },
        "/openapi.json": {
            "get": {"summary": "This document", "operationId": "openapi", "tags": ["meta"], "security": [],
                    "responses": {"200": {"description": "OpenAPI 3 document", **_json(OBJECT)}}},
        },
    },
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "A personal API token (created with the hsm-workflow command)."},
            "session": {"type": "apiKey", "in": "cookie", "name": "hsm_session",
                        "description": "The browser session; unsafe requests also need the X-CSRFToken header."},
        },
    },
}
