"""Validating and deploying process definitions: all or nothing, versioned by content."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import ProcessVersion
from ..domain.calendar import WorkingCalendar
from ..domain.deadlines import Deadline, Reminder
from ..domain.forms import FormDefinitionError, parse_form
from ..engine.functions import script_functions
from ..engine.parsing import ParsedProcess, Problem, parse_files, timer_problem
from ..engine.sandbox import Limits
from ..errors import DeploymentRefused
from .data_flow import data_gaps, start_form_of
from .directory import ensure_roles, role_codes
from .letters import template_problem
from .runtime import Runtime
from .start_data import start_form_problems

CLOCK_VALUES = {"pause", "resume"}
PROBE_INSTANT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)  # "now" when timer expressions are checked


@dataclass(frozen=True)
class Deployed:
    process_id: str
    version: int
    changed: bool


@dataclass(frozen=True)
class Library:
    """The forms and letter templates diagrams may refer to, by id."""

    forms: Mapping[str, str]
    letters: Mapping[str, str]

    @classmethod
    def load(cls, forms_dir: Path, letters_dir: Path) -> "Library":
        return cls(
            forms={p.stem: p.read_text(encoding="utf-8") for p in sorted(forms_dir.glob("*.form"))},
            letters={p.stem: p.read_text(encoding="utf-8") for p in sorted(letters_dir.glob("*.txt"))},
        )


def read_bpmn(paths: list[Path]) -> dict[str, bytes]:
    """The .bpmn files at ``paths`` (files or directories), by file name."""
    files = {}
    for path in paths:
        for file in sorted(path.glob("*.bpmn")) if path.is_dir() else [path]:
            files[file.name] = file.read_bytes()
    return files


def _check_process(process: ParsedProcess, library: Library, roles: set[str],
                   known_processes: set[str], *, evaluate: bool = True, limits: Limits = Limits()) -> list[Problem]:
    """``evaluate=False`` skips evaluating the diagram's expressions (see :func:`validate`)."""
    problems: list[Problem] = []

    def problem(element, message):
        problems.append(Problem(process.file_name, element.id, message))

    for element in process.of_kind("user_task"):
        _check_user_task(element, library, roles, problem)
    for element in process.of_kind("action"):
        _check_action(element, library, known_processes, problem)
    functions = script_functions(WorkingCalendar(), lambda: PROBE_INSTANT)
    for element in process.of_kind("timer") if evaluate else ():
        reason = timer_problem(element.settings["expression"], element.settings["type"], functions, limits)
        if reason:
            problem(element, reason)
    for element in process.elements:
        clock = element.settings.get("caseClock")
        if clock is not None and clock not in CLOCK_VALUES:
            problem(element, f"caseClock must be 'pause' or 'resume', not {clock!r}")
    problems.extend(start_form_problems(process, library.forms))
    problems.extend(data_gaps(process, library.forms, library.letters))
    return problems


def _check_user_task(element, library: Library, roles: set[str], problem) -> None:
    settings = element.settings
    if not settings.get("role"):
        problem(element, "user task has no role (camunda:candidateGroups)")
    elif settings["role"] not in roles:
        problem(element, f"unknown role {settings['role']!r}")
    form = settings.get("form")
    if not form:
        problem(element, "user task has no form (camunda:formRef)")
    elif form not in library.forms:
        problem(element, f"form {form!r} not found in forms/")
    else:
        try:
            parse_form(library.forms[form], f"forms/{form}.form")
        except FormDefinitionError as error:
            problem(element, str(error))
    for key, parse in (("due", Deadline.parse), ("reminder", Reminder.parse)):
        if settings.get(key):
            try:
                parse(settings[key])
            except ValueError as error:
                problem(element, str(error))
    for role in settings.get("escalateTo", "").split():
        if role not in roles:
            problem(element, f"escalateTo names unknown role {role!r}")


def _check_action(element, library: Library, known_processes: set[str], problem) -> None:
    letter, start = element.settings.get("letter"), element.settings.get("startProcess")
    if not letter and not start:
        problem(element, "service task needs an extension property 'letter' or 'startProcess'")
    if letter and letter not in library.letters:
        problem(element, f"letter template {letter!r} not found in letters/")
    elif letter and (reason := template_problem(library.letters[letter])):
        problem(element, f"letter template {letter!r}: {reason}")
    if start and start not in known_processes:
        problem(element, f"startProcess names unknown process {start!r}")


def _closure(process_id: str, processes: Mapping[str, ParsedProcess]) -> list[ParsedProcess]:
    """The process and every process it calls, directly or not."""
    seen, order, stack = set(), [], [process_id]
    while stack:
        current = stack.pop()
        if current in seen or current not in processes:
            continue
        seen.add(current)
        order.append(processes[current])
        stack.extend(sorted(processes[current].calls))
    return order


def _assets(members: list[ParsedProcess], library: Library) -> dict:
    forms = {e.settings["form"] for p in members for e in p.of_kind("user_task")} | {
        form for p in members if (form := start_form_of(p)) in library.forms}
    letters = {e.settings["letter"] for p in members for e in p.of_kind("action") if e.settings.get("letter")}
    return {"forms": {f: library.forms[f] for f in sorted(forms)},
            "letters": {t: library.letters[t] for t in sorted(letters)},
            "start_form": start_form_of(members[0])}


def _content_hash(members: list[ParsedProcess], assets: dict) -> str:
    digest = hashlib.sha256()
    for member in sorted(members, key=lambda p: p.process_id):
        digest.update(member.process_id.encode() + b"\0" + member.xml + b"\0")
    digest.update(json.dumps(assets, sort_keys=True).encode())
    return digest.hexdigest()


def validate(files: Mapping[str, bytes], library: Library, roles: set[str],
             deployed_ids: set[str] = frozenset(), *, deployed: Mapping[str, bytes] | None = None,
             limits: Limits = Limits()) -> tuple[dict[str, ParsedProcess], list[Problem]]:
    """Everything a deployment checks, without touching the database.

    ``deployed`` holds the sources of the latest deployed versions (by file name): a file
    identical to one of them had its expressions evaluated when it was deployed, so they
    are not evaluated again (every deployment re-parses them, to resolve call activities).
    """
    processes, problems = parse_files(files)
    known = set(processes) | set(deployed_ids)
    deployed = deployed or {}
    for process in processes.values():
        unchanged = deployed.get(process.file_name) == process.xml
        problems.extend(_check_process(process, library, roles, known, evaluate=not unchanged, limits=limits))
    return processes, problems


def latest_sources(session: Session) -> dict[str, bytes]:
    """The source of the latest version of every deployed process, by file name."""
    latest = select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("v")) \
        .group_by(ProcessVersion.process_id).subquery()
    rows = session.execute(select(ProcessVersion.file_name, ProcessVersion.source_xml).join(
        latest, (ProcessVersion.process_id == latest.c.process_id) & (ProcessVersion.version == latest.c.v)))
    return {name: xml for name, xml in rows}


def deploy(runtime: Runtime, files: Mapping[str, bytes], *, by: str,
           library: Library | None = None) -> list[Deployed]:
    """Validate ``files`` (with the deployed processes they may call) and store new versions.

    All or nothing: any problem refuses the whole deployment. Identical content is a no-op.
    """
    library = library or Library.load(runtime.settings.forms_dir, runtime.settings.letters_dir)
    with runtime.transaction() as session:
        ensure_roles(session)
        deployed = latest_sources(session)
        processes, problems = validate({**deployed, **files}, library, role_codes(session), deployed=deployed,
                                       limits=Limits(cpu_seconds=runtime.settings.script_cpu_seconds))
        if problems:
            raise DeploymentRefused(problems)
        results = []
        for process_id in sorted(processes):
            results.append(_store(session, runtime, processes, process_id, library, by))
        return results


def _store(session: Session, runtime: Runtime, processes, process_id: str, library: Library, by: str) -> Deployed:
    process = processes[process_id]
    members = _closure(process_id, processes)
    assets = _assets(members, library)
    content_hash = _content_hash(members, assets)
    latest = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                            .order_by(ProcessVersion.version.desc()).limit(1))
    if latest is not None and latest.content_hash == content_hash:
        return Deployed(process_id, latest.version, changed=False)
    version = (latest.version if latest else 0) + 1
    session.add(ProcessVersion(
        process_id=process_id, name=process.name, version=version,
        content_hash=content_hash, file_name=process.file_name, source_xml=process.xml,
        spec_json=process.spec_json, assets=assets, deployed_by=by, deployed_at=runtime.clock.now()))
    return Deployed(process_id, version, changed=True)
