"""marshmallow schemas: what the API accepts (validated) and what it answers."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from ...domain.status import CaseStatus

NOT_BLANK = validate.Regexp(r"\S", error="Must not be blank.")
MESSAGE_NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="Use a snake_case message name.")


class Strict(Schema):
    class Meta:
        unknown = RAISE


# --- requests ------------------------------------------------------------------------------
class CaseListQuery(Strict):
    status = fields.String(validate=validate.OneOf([status.value for status in CaseStatus]))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class StartCase(Strict):
    process_id = fields.String(required=True, validate=NOT_BLANK)
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    unit = fields.String(load_default=None, allow_none=True)
    parent = fields.String(load_default=None, allow_none=True)


class TaskListQuery(Strict):
    process_id = fields.String()
    overdue = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 500))


class CompleteTask(Strict):
    data = fields.Dict(keys=fields.String(), required=True)


class Message(Strict):
    name = fields.String(required=True, validate=MESSAGE_NAME)
    payload = fields.Dict(keys=fields.String(), load_default=dict)
    reason = fields.String(load_default=None, allow_none=True)  # administrators on a role's behalf


class Reason(Strict):
    reason = fields.String(required=True, validate=NOT_BLANK)


# --- answers ------------------------------------------------------------------------------
class CaseSummary(Schema):
    reference = fields.String()
    process_id = fields.String()
    version = fields.Integer()
    status = fields.String()
    unit = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    parent = fields.String(allow_none=True)


class CaseTask(Schema):
    id = fields.Integer()
    name = fields.String()
    element = fields.String()
    role = fields.String()
    status = fields.String()
    due_on = fields.Date(allow_none=True)
    claimed_by = fields.String(allow_none=True)
    completed_by = fields.String(allow_none=True)


class CaseTimer(Schema):
    name = fields.String()
    element = fields.String()
    due_at = fields.DateTime()
    status = fields.String()


class CaseLetter(Schema):
    id = fields.Integer()
    template = fields.String()
    title = fields.String()
    created_at = fields.DateTime()
    body = fields.String()


class CaseEvent(Schema):
    at = fields.DateTime()
    actor = fields.String()
    kind = fields.String()
    summary = fields.String()


class CaseFile(Schema):
    summary = fields.Nested(CaseSummary)
    title = fields.String()
    tasks = fields.List(fields.Nested(CaseTask))
    timers = fields.List(fields.Nested(CaseTimer))
    letters = fields.List(fields.Nested(CaseLetter))
    events = fields.List(fields.Nested(CaseEvent))
    linked = fields.List(fields.Nested(CaseSummary))
    error = fields.String(allow_none=True)


class InboxTask(Schema):
    id = fields.Integer()
    case = fields.String()
    procedure = fields.String()
    name = fields.String()
    role = fields.String()
    due_on = fields.Date(allow_none=True)
    overdue = fields.Boolean()
    due_soon = fields.Boolean()
    claimed_by_me = fields.Boolean()


class NextTask(Schema):
    id = fields.Integer()
    case = fields.String()
    name = fields.String()
    role = fields.String()
    due_on = fields.Date(allow_none=True)
