"""Process owners: deployed processes and their versions, uploading a new version
(validated exactly as ``hsm-workflow deploy`` does), viewing and downloading a diagram."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.utils import secure_filename

from ..errors import DeploymentRefused
from ..services import admin
from .auth import login_required
from .util import runtime_of, user

bp = Blueprint("processes", __name__, url_prefix="/processes")


def _index(problems=(), upload_error: str | None = None, status: int = 200):
    return render_template("processes/index.html", processes=admin.processes(runtime_of(), user()),
                           problems=problems, upload_error=upload_error), status


@bp.get("")
@login_required
def index():
    return _index()


@bp.post("")
@login_required
def upload():
    uploads = [f for f in request.files.getlist("bpmn") if f.filename]
    names = [secure_filename(f.filename) for f in uploads]
    if not uploads or not all(name.endswith(".bpmn") for name in names):
        return _index(upload_error="Choose one or more .bpmn files.", status=422)
    files = {name: upload.read() for name, upload in zip(names, uploads, strict=True)}
    try:
        results = admin.deploy(runtime_of(), user(), files)
    except DeploymentRefused as refused:
        return _index(problems=refused.problems, status=422)
    for result in results:
        state = "deployed" if result.changed else "unchanged (same content as the latest version)"
        flash(f"{result.process_id} version {result.version} {state}.")
    return redirect(url_for("processes.index"))


@bp.get("/<process_id>/v<int:version>")
@login_required
def version(process_id: str, version: int):
    source = admin.version_source(runtime_of(), user(), process_id, version)
    return render_template("processes/version.html", source=source,
                           diagram_url=url_for("processes.source", process_id=process_id, version=version))


@bp.get("/<process_id>/v<int:version>/source.bpmn")
@login_required
def source(process_id: str, version: int):
    found = admin.version_source(runtime_of(), user(), process_id, version)
    download = f"{found.process_id}-v{found.version}.bpmn"
    return Response(found.xml, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{download}"'})
