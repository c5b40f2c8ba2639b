"""API routes: cases, tasks, messages and administrators' case actions."""
from __future__ import annotations

from flask import jsonify, request

from ...domain.status import CaseStatus
from ...services import access, cases, tasks
from ..util import runtime_of, user
from . import body, bp, load, schemas
from .openapi import DOCUMENT


@bp.get("/openapi.json")
def openapi():
    return jsonify(DOCUMENT)


@bp.get("/cases")
def list_cases():
    query = load(schemas.CaseListQuery(), request.args.to_dict())
    found = access.visible_cases(runtime_of(), user(), **query)
    return jsonify(cases=schemas.CaseSummary(many=True).dump(found))


@bp.post("/cases")
def start_case():
    data = load(schemas.StartCase(), body())
    summary = cases.start_case(runtime_of(), user(), data["process_id"], data["variables"],
                               unit=data["unit"], parent=data["parent"])
    return jsonify(schemas.CaseSummary().dump(summary)), 201


@bp.get("/cases/<reference>")
def get_case(reference: str):
    return jsonify(schemas.CaseFile().dump(access.case_file(runtime_of(), user(), reference)))


@bp.post("/cases/<reference>/messages")
def deliver_message(reference: str):
    data = load(schemas.Message(), body())
    cases.deliver_message(runtime_of(), user(), reference, data["name"], data["payload"], reason=data["reason"])
    return jsonify(case=reference, message=data["name"], delivered=True)


def _set_status(reference: str, status: CaseStatus):
    data = load(schemas.Reason(), body())
    cases.set_status(runtime_of(), user(), reference, status, reason=data["reason"])
    return jsonify(case=reference, status=status)


@bp.post("/cases/<reference>/suspend")
def suspend(reference: str):
    return _set_status(reference, CaseStatus.SUSPENDED)


@bp.post("/cases/<reference>/resume")
def resume(reference: str):
    return _set_status(reference, CaseStatus.RUNNING)


@bp.post("/cases/<reference>/terminate")
def terminate(reference: str):
    return _set_status(reference, CaseStatus.TERMINATED)


@bp.get("/tasks")
def list_tasks():
    query = load(schemas.TaskListQuery(), request.args.to_dict())
    box = access.inbox(runtime_of(), user(), process_id=query.get("process_id"),
                       overdue_only=query["overdue"], limit=query["limit"])
    return jsonify(tasks=schemas.InboxTask(many=True).dump(box.items), total=box.total)


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int):
    tasks.claim(runtime_of(), user(), task_id)
    return jsonify(task=task_id, claimed_by=user().username)


@bp.post("/tasks/<int:task_id>/unclaim")
def unclaim(task_id: int):
    tasks.unclaim(runtime_of(), user(), task_id)
    return jsonify(task=task_id, claimed_by=None)


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id: int):
    data = load(schemas.CompleteTask(), body())
    following = tasks.complete(runtime_of(), user(), task_id, data["data"])
    return jsonify(task=task_id, completed=True,
                   next_task=schemas.NextTask().dump(following) if following else None)
