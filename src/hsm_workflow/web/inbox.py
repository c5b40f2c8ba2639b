"""The task inbox and the task page (instructions, the form, claim and release)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ..domain.forms import LIST_TYPES, Form
from ..errors import InvalidData
from ..services import access, tasks
from .auth import login_required
from .util import local_path, runtime_of, user

bp = Blueprint("inbox", __name__)


@bp.get("/")
@login_required
def index():
    process_id = request.args.get("procedure") or None
    overdue_only = request.args.get("overdue") == "1"
    box = access.inbox(runtime_of(), user(), process_id=process_id, overdue_only=overdue_only)
    return render_template("inbox/index.html", inbox=box, procedure=process_id, overdue_only=overdue_only)


def form_data(form: Form, posted: MultiDict) -> dict[str, Any]:
    """What an HTML form posted, as the data a task form expects (lists for multiple choices)."""
    lists = {spec.key for spec in form.fields if spec.type in LIST_TYPES}
    return {key: posted.getlist(key) if key in lists else posted.get(key)
            for key in posted if key != "csrf_token"}


def _initial_values(form: Form) -> dict[str, Any]:
    return {spec.key: spec.default for spec in form.fields if spec.default is not None}


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    view = access.task_view(runtime_of(), user(), task_id)
    values = _initial_values(view.form) if view.form else {}
    return render_template("inbox/task.html", task=view, values=values, errors={})


@bp.post("/tasks/<int:task_id>")
@login_required
def submit(task_id: int):
    runtime, actor = runtime_of(), user()
    view = access.task_view(runtime, actor, task_id)
    data = form_data(view.form, request.form) if view.form else {}  # no form: the service says why not
    try:
        following = tasks.complete(runtime, actor, task_id, data)
    except InvalidData as error:
        return render_template("inbox/task.html", task=view, values=data, errors=error.errors), 422
    flash(f"Done: {view.name} ({view.case}).")
    if following is not None:
        flash(f"Next in this case: {following.name}.")
        return redirect(url_for("inbox.task", task_id=following.id))
    return redirect(url_for("inbox.index"))


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    if tasks.claim(runtime_of(), user(), task_id):
        flash("The task is yours: others with the role no longer see it in their inbox.")
    return redirect(local_path(request.form.get("next"), url_for("inbox.task", task_id=task_id)))


@bp.post("/tasks/<int:task_id>/unclaim")
@login_required
def unclaim(task_id: int):
    tasks.unclaim(runtime_of(), user(), task_id)
    flash("The task is released: everyone with the role sees it again.")
    return redirect(local_path(request.form.get("next"), url_for("inbox.task", task_id=task_id)))
