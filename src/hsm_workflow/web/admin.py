"""The administrators' console: find cases, see their timers and errors, and act on them
(suspend, resume, terminate, retry, reassign, deliver a message), always with a reason."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..domain.status import CaseStatus
from ..errors import Forbidden, HsmError, InvalidData, NotFound
from ..services import admin, cases
from .auth import login_required
from .inputs import parse_json
from .util import runtime_of, user

bp = Blueprint("admin", __name__, url_prefix="/admin")
STATUS_ACTIONS = {"suspend": (CaseStatus.SUSPENDED, "suspended"), "resume": (CaseStatus.RUNNING, "resumed"),
                  "terminate": (CaseStatus.TERMINATED, "terminated")}
STATUSES = [status.value for status in CaseStatus]


@bp.get("")
@login_required
def index():
    args = request.args
    page = admin.list_cases(runtime_of(), user(), process_id=args.get("procedure") or None,
                            status=args.get("status") if args.get("status") in STATUSES else None,
                            overdue=args.get("overdue") == "1", waiting=args.get("waiting") == "1",
                            page=args.get("page", 1, type=int))
    return render_template("admin/index.html", page=page, statuses=STATUSES, args=args)


def _case_page(reference: str, action: str | None = None, errors: dict | None = None, status: int = 200):
    return render_template("admin/case.html", case=admin.admin_case(runtime_of(), user(), reference),
                           action=action, errors=errors or {}, values=request.form), status


@bp.get("/cases/<reference>")
@login_required
def case(reference: str):
    return _case_page(reference)


def _act(reference: str, action: str, run, done: str):
    """Run an action; a refusal comes back beside the form, other errors as a message."""
    try:
        run()
    except InvalidData as error:
        return _case_page(reference, action, error.errors, 422)
    except (NotFound, Forbidden):
        raise
    except HsmError as error:
        flash(f"Nothing was changed: {error}", "error")
    else:
        flash(done)
    return redirect(url_for("admin.case", reference=reference))


@bp.post("/cases/<reference>/status")
@login_required
def set_status(reference: str):
    action = request.form.get("action", "")
    if action not in STATUS_ACTIONS:
        return _case_page(reference, "status", {"action": ["Choose suspend, resume or terminate."]}, 422)
    status, done = STATUS_ACTIONS[action]
    return _act(reference, "status", lambda: cases.set_status(
        runtime_of(), user(), reference, status, reason=request.form.get("reason", "")),
        f"{reference} {done}.")


@bp.post("/cases/<reference>/retry")
@login_required
def retry(reference: str):
    return _act(reference, "retry", lambda: cases.retry(
        runtime_of(), user(), reference, reason=request.form.get("reason", "")),
        f"{reference} is running again.")


@bp.post("/cases/<reference>/tasks/<int:task_id>/reassign")
@login_required
def reassign(reference: str, task_id: int):
    target = request.form.get("to", "")
    return _act(reference, f"reassign-{task_id}", lambda: admin.reassign(
        runtime_of(), user(), reference, task_id, target, reason=request.form.get("reason", "")),
        f"Task given to {target}.")


def _payload(text: str) -> dict:
    payload = parse_json(text or "{}", "payload")
    if not isinstance(payload, dict):
        raise InvalidData("not an object", {"payload": ['Give a JSON object, e.g. {"date": "2026-02-01"}.']})
    return payload


@bp.post("/cases/<reference>/message")
@login_required
def message(reference: str):
    form = request.form
    name = form.get("name", "").strip()

    def run():
        if not name:
            raise InvalidData("no message name", {"name": ["Give the message name."]})
        cases.deliver_message(runtime_of(), user(), reference, name, _payload(form.get("payload", "")),
                              reason=form.get("reason", ""))
    return _act(reference, "message", run, f"Message {name} delivered to {reference}.")
