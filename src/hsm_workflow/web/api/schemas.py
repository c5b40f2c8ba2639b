"""marshmallow schemas: what the API accepts (validated) and what it answers. The OpenAPI
document is generated from them (openapi.py), so they are the one description of the API."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from ...domain.status import CaseStatus, TaskStatus, TimerStatus
from ..inputs import INT64_MAX

NOT_BLANK = validate.Regexp(r"\S", error="Must not be blank.")
MESSAGE_NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="Use a snake_case message name.")


def _status(kind: type, **kwargs) -> fields.Enum:
    return fields.Enum(kind, by_value=True, **kwargs)


class Strict(Schema):
    class Meta:
        unknown = RAISE


# --- requests ------------------------------------------------------------------------------
class CaseListQuery(Strict):
    status = _status(CaseStatus)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, INT64_MAX))


class StartCase(Strict):
    process_id = fields.String(required=True, validate=NOT_BLANK)
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    unit = fields.String(load_default=None, allow_none=True,
                         metadata={"description": "unit code (default: the parent's unit, else the default unit)"})
    parent = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "reference of the case this one is linked to"})


class TaskListQuery(Strict):
    process_id = fields.String()
    overdue = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 500))


class CompleteTask(Strict):
    data = fields.Dict(keys=fields.String(), required=True, metadata={"description": "the task form's fields, by key"})


class Message(Strict):
    name = fields.String(required=True, validate=MESSAGE_NAME)
    payload = fields.Dict(keys=fields.String(), load_default=dict)
    reason = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "why, when an administrator sends it on a role's behalf"})


class Reason(Strict):
    reason = fields.String(required=True, validate=NOT_BLANK)


# --- answers (every field is always present: required documents that) ---------------------
class Error(Schema):
    error = fields.String(required=True)
    field_errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                               data_key="fields", metadata={"description": "each invalid field's problems"})


class CaseSummary(Schema):
    reference = fields.String(required=True)
    process_id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = _status(CaseStatus, required=True)
    unit = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(required=True, allow_none=True)
    parent = fields.String(required=True, allow_none=True)


class CaseTask(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    element = fields.String(required=True)
    role = fields.String(required=True)
    status = _status(TaskStatus, required=True)
    due_on = fields.Date(required=True, allow_none=True)
    claimed_by = fields.String(required=True, allow_none=True)
    completed_by = fields.String(required=True, allow_none=True)


class CaseTimer(Schema):
    name = fields.String(required=True)
    element = fields.String(required=True)
    due_at = fields.DateTime(required=True)
    status = _status(TimerStatus, required=True)


class CaseLetter(Schema):
    id = fields.Integer(required=True)
    template = fields.String(required=True)
    title = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    body = fields.String(required=True)


class CaseEvent(Schema):
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    kind = fields.String(required=True)
    summary = fields.String(required=True)


class CaseFile(Schema):
    summary = fields.Nested(CaseSummary, required=True)
    title = fields.String(required=True)
    tasks = fields.List(fields.Nested(CaseTask), required=True)
    timers = fields.List(fields.Nested(CaseTimer), required=True)
    letters = fields.List(fields.Nested(CaseLetter), required=True)
    events = fields.List(fields.Nested(CaseEvent), required=True)
    linked = fields.List(fields.Nested(CaseSummary), required=True)
    error = fields.String(required=True, allow_none=True)


class CaseList(Schema):
    cases = fields.List(fields.Nested(CaseSummary), required=True)


class InboxTask(Schema):
    id = fields.Integer(required=True)
    case = fields.String(required=True)
    procedure = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    due_on = fields.Date(required=True, allow_none=True)
    overdue = fields.Boolean(required=True)
    due_soon = fields.Boolean(required=True)
    claimed_by_me = fields.Boolean(required=True)


class TaskList(Schema):
    tasks = fields.List(fields.Nested(InboxTask), required=True)
    total = fields.Integer(required=True)


class NextTask(Schema):
    id = fields.Integer(required=True)
    case = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    due_on = fields.Date(required=True, allow_none=True)


class TaskClaim(Schema):
    task = fields.Integer(required=True)
    claimed_by = fields.String(required=True, allow_none=True, metadata={"description": "null once released"})


class TaskCompleted(Schema):
    task = fields.Integer(required=True)
    completed = fields.Boolean(required=True)
    next_task = fields.Nested(NextTask, required=True, allow_none=True,
                              metadata={"description": "the caller's next task in the case, if any"})


class MessageDelivered(Schema):
    case = fields.String(required=True)
    message = fields.String(required=True)
    delivered = fields.Boolean(required=True)


class StatusChanged(Schema):
    case = fields.String(required=True)
    status = _status(CaseStatus, required=True)


class Document(Schema):
    openapi = fields.String(required=True)
    info = fields.Dict(required=True)
    paths = fields.Dict(required=True)
    components = fields.Dict(required=True)
