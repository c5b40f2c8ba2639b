"""The case file: parties, tasks, deadlines, timers, linked cases, letters, timeline, diagram."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for

from ..services import access
from .auth import login_required
from .util import runtime_of, user

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/<reference>")
@login_required
def case_file(reference: str):
    view = access.case_view(runtime_of(), user(), reference)
    return render_template("cases/file.html", case=view, file=view.file,
                           diagram_url=url_for("cases.diagram", reference=reference))


@bp.get("/<reference>/letters/<int:letter_id>")
@login_required
def letter(reference: str, letter_id: int):
    return render_template("cases/letter.html",
                           letter=access.letter(runtime_of(), user(), reference, letter_id))


@bp.get("/<reference>/diagram.bpmn")
@login_required
def diagram(reference: str):
    xml = access.case_diagram(runtime_of(), user(), reference)
    return Response(xml, mimetype="application/xml")
