"""API routes: cases, tasks, messages and administrators' case actions."""
from __future__ import annotations

from flask import current_app, jsonify

from ...domain.status import CaseStatus
from ...services import access, cases, tasks
from ..util import runtime_of, user
from . import body, bp, operation, query, schemas
from .openapi import document


@bp.get("/openapi.json")
@operation("openapi", "This document", tag="meta", ok=schemas.Document, public=True)
def openapi():
    return jsonify(document(current_app))


@bp.get("/cases")
@operation("listCases", "Cases the user may see, newest first", tag="cases", ok=schemas.CaseList,
           query=schemas.CaseListQuery)
def list_cases():
    found = access.visible_cases(runtime_of(), user(), **query())
    return jsonify(cases=schemas.CaseSummary(many=True).dump(found))


@bp.post("/cases")
@operation("startCase", "Start a case (administrators, or a role holder in the case's unit)", tag="cases",
           ok=schemas.CaseSummary, status=201, body=schemas.StartCase, errors=(403, 404, 409, 500))
def start_case():
    data = body()
    summary = cases.start_case(runtime_of(), user(), data["process_id"], data["variables"],
                               unit=data["unit"], parent=data["parent"])
    return jsonify(schemas.CaseSummary().dump(summary)), 201


@bp.get("/cases/<reference>")
@operation("getCase", "A case file: tasks, timers, letters, events, linked cases", tag="cases",
           ok=schemas.CaseFile)
def get_case(reference: str):
    return jsonify(schemas.CaseFile().dump(access.case_file(runtime_of(), user(), reference)))


@bp.post("/cases/<reference>/messages")
@operation("deliverMessage", "Deliver a message the case waits for (e.g. police_report_made)", tag="cases",
           ok=schemas.MessageDelivered, body=schemas.Message, errors=(403, 409, 500))
def deliver_message(reference: str):
    data = body()
    cases.deliver_message(runtime_of(), user(), reference, data["name"], data["payload"], reason=data["reason"])
    return jsonify(case=reference, message=data["name"], delivered=True)


def _set_status(reference: str, status: CaseStatus):
    data = body()
    cases.set_status(runtime_of(), user(), reference, status, reason=data["reason"])
    return jsonify(case=reference, status=status)


@bp.post("/cases/<reference>/suspend")
@operation("suspendCase", "Suspend a case (administrators; the reason goes into the case's record)",
           tag="admin", ok=schemas.StatusChanged, body=schemas.Reason, errors=(403, 409))
def suspend(reference: str):
    return _set_status(reference, CaseStatus.SUSPENDED)


@bp.post("/cases/<reference>/resume")
@operation("resumeCase", "Resume a case (administrators; the reason goes into the case's record)",
           tag="admin", ok=schemas.StatusChanged, body=schemas.Reason, errors=(403, 409))
def resume(reference: str):
    return _set_status(reference, CaseStatus.RUNNING)


@bp.post("/cases/<reference>/terminate")
@operation("terminateCase", "Terminate a case (administrators; the reason goes into the case's record)",
           tag="admin", ok=schemas.StatusChanged, body=schemas.Reason, errors=(403, 409))
def terminate(reference: str):
    return _set_status(reference, CaseStatus.TERMINATED)


@bp.get("/tasks")
@operation("listTasks", "The user's inbox: their claimed tasks and their roles' unclaimed ones", tag="tasks",
           ok=schemas.TaskList, query=schemas.TaskListQuery)
def list_tasks():
    args = query()
    box = access.inbox(runtime_of(), user(), process_id=args.get("process_id"),
                       overdue_only=args["overdue"], limit=args["limit"])
    return jsonify(tasks=schemas.InboxTask(many=True).dump(box.items), total=box.total)


@bp.post("/tasks/<int:task_id>/claim")
@operation("claimTask", "Claim a task (others with the role stop seeing it)", tag="tasks", ok=schemas.TaskClaim,
           errors=(403, 409))
def claim(task_id: int):
    tasks.claim(runtime_of(), user(), task_id)
    return jsonify(task=task_id, claimed_by=user().username)


@bp.post("/tasks/<int:task_id>/unclaim")
@operation("unclaimTask", "Release a task you claimed", tag="tasks", ok=schemas.TaskClaim, errors=(403, 409))
def unclaim(task_id: int):
    tasks.unclaim(runtime_of(), user(), task_id)
    return jsonify(task=task_id, claimed_by=None)


@bp.post("/tasks/<int:task_id>/complete")
@operation("completeTask", "Complete a task with its form's data", tag="tasks", ok=schemas.TaskCompleted,
           body=schemas.CompleteTask, errors=(403, 409, 500))
def complete(task_id: int):
    data = body()
    following = tasks.complete(runtime_of(), user(), task_id, data["data"])
    return jsonify(task=task_id, completed=True,
                   next_task=schemas.NextTask().dump(following) if following else None)
