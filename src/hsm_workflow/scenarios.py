"""The scenario runner: a process owner's check of a diagram change (docs/scenarios.md).

Each scenario runs against the real runtime on a throwaway SQLite database, with the
demo organisation, every process in ``processes/`` deployed, and a virtual clock.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from .clock import VirtualClock
from .config import Settings
from .db.models import Case, Task, Timer
from .domain.calendar import LONDON, local_date, parse_instant
from .domain.principals import Principal
from .domain.status import CaseStatus, TaskStatus, TimerStatus
from .errors import HsmError
from .services import access, cases, deployment, tasks
from .services.demo import seed_organisation
from .services.directory import candidates
from .services.progress import working_calendar
from .services.runtime import Runtime
from .services.timers import fire_all_due

OFFICE_HOURS = time(9, 0)


class StepMismatch(Exception):
    """A step's expectation was not met."""


@dataclass(frozen=True)
class Outcome:
    file: str
    title: str
    passed: bool
    detail: str = ""


SCENARIO = Principal("scenario", "Scenario runner", is_admin=False, is_system=True)


class ScenarioRun:
    """One scenario's state: runtime, clock, the case acted on."""

    def __init__(self, runtime: Runtime, clock: VirtualClock, unit: str):
        self.runtime, self.clock, self.unit = runtime, clock, unit
        self.main: str | None = None
        self.current: str | None = None

    # --- steps ----------------------------------------------------------------------
    def start(self, step: dict) -> None:
        summary = cases.start_case(self.runtime, SCENARIO, step["start"], _plain(step.get("data") or {}),
                                   unit=step.get("unit", self.unit))
        self.main = self.main or summary.reference
        self.current = summary.reference

    def complete(self, step: dict) -> None:
        task_id, role, unit_id = self._open_task(step["complete"])
        user = self._holder(step.get("as", role), unit_id)
        tasks.complete(self.runtime, user, task_id, _plain(step.get("data") or {}))

    def message(self, step: dict) -> None:
        """A message from outside: from a holder of the role ``as`` names, else on the senders' behalf."""
        data = _plain(step.get("data") or {})
        if "as" in step:
            with self.runtime.reading() as session:
                unit_id = cases.case_by_reference(session, self._case()).unit_id
            cases.deliver_message(self.runtime, self._holder(step["as"], unit_id), self._case(), step["message"], data)
        else:
            cases.deliver_message(self.runtime, SCENARIO, self._case(), step["message"], data,
                                  reason="scenario")

    def runtime_message(self, step: dict) -> None:
        """A message the runtime itself sends (a parent case closing), for a case started on its own."""
        cases.simulate_runtime_message(self.runtime, self._case(), step["runtime_message"],
                                       _plain(step.get("data") or {}))

    def advance(self, step: dict) -> None:
        target = self._target(step["advance"])
        while True:
            with self.runtime.reading() as session:
                due = session.scalar(select(Timer.due_at).join(Case).where(
                    Timer.status == TimerStatus.PENDING, Case.status == CaseStatus.RUNNING, Timer.due_at <= target)
                    .order_by(Timer.due_at).limit(1))
            if due is None:
                break
            self.clock.set(max(due, self.clock.now()))
            fire_all_due(self.runtime)
        self.clock.set(target)

    def tasks(self, step: dict) -> None:
        expected = sorted(step["tasks"] or [])
        actual = sorted(t.element for t in self._file().tasks if t.status == TaskStatus.OPEN)
        _same("open tasks", expected, actual)

    def due(self, step: dict) -> None:
        open_tasks = {t.element: t.due_on.isoformat() if t.due_on else None
                      for t in self._file().tasks if t.status == TaskStatus.OPEN}
        for element, expected in step["due"].items():
            if element not in open_tasks:
                raise StepMismatch(f"no open task {element!r} (open: {sorted(open_tasks)})")
            _same(f"due date of {element}", str(expected) if expected else None, open_tasks[element])

    def letters(self, step: dict) -> None:
        _same("letters", list(step["letters"] or []), [letter.template for letter in self._file().letters])

    def status(self, step: dict) -> None:
        _same("case status", step["status"], self._file().summary.status)

    def linked(self, step: dict) -> None:
        found = {c.process_id: c.status for c in access.case_file(self.runtime, SCENARIO, self.main).linked}
        for process_id, expected in step["linked"].items():
            _same(f"linked {process_id}", expected, found.get(process_id))

    def case(self, step: dict) -> None:
        if step["case"] == "main":
            self.current = self.main
            return
        linked = [c for c in access.case_file(self.runtime, SCENARIO, self.main).linked
                  if c.process_id == step["case"]]
        if not linked:
            raise StepMismatch(f"no linked case of {step['case']!r}")
        self.current = linked[-1].reference

    def fails(self, step: dict) -> None:
        inner = dict(step["fails"])
        try:
            self.perform(inner)
        except (HsmError, StepMismatch):
            return
        raise StepMismatch(f"expected this step to be refused, but it succeeded: {inner}")

    # --- plumbing -------------------------------------------------------------------
    ACTIONS = ("start", "complete", "message", "runtime_message", "advance", "tasks", "due", "letters", "status", "linked",
               "case", "fails")

    def perform(self, step: dict) -> None:
        for action in self.ACTIONS:
            if action in step:
                return getattr(self, action)(step)
        raise StepMismatch(f"unknown step {step!r}; steps are {', '.join(self.ACTIONS)}")

    def _case(self) -> str:
        if self.current is None:
            raise StepMismatch("no case started yet")
        return self.current

    def _file(self):
        return access.case_file(self.runtime, SCENARIO, self._case())

    def _open_task(self, element: str) -> tuple[int, str, int]:
        with self.runtime.reading() as session:
            case = cases.case_by_reference(session, self._case())
            task = session.scalar(select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN,
                                                     Task.element_id == element).order_by(Task.id).limit(1))
            if task is None:
                open_ids = session.scalars(select(Task.element_id).where(Task.case_id == case.id,
                                                                         Task.status == TaskStatus.OPEN)).all()
                raise StepMismatch(f"no open task {element!r} (open: {sorted(open_ids)})")
            return task.id, task.role, task.unit_id

    def _holder(self, role: str, unit_id: int) -> Principal:
        with self.runtime.reading() as session:
            users = candidates(session, role, unit_id)
            if not users:
                raise StepMismatch(f"no demo user holds {role!r} for this case")
            username = users[0].username
        return access.principal(self.runtime, username)

    def _target(self, value: Any) -> datetime:
        """A date means 09:00 Europe/London that day; durations count from the clock."""
        text, now = str(value).strip(), self.clock.now()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return parse_instant(datetime.combine(date.fromisoformat(text), OFFICE_HOURS))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ].+", text):
            return parse_instant(text)
        match = re.fullmatch(r"(\d+)\s+(working days?|days?|weeks?)", text)
        if not match:
            raise StepMismatch(f"cannot advance by {value!r}: use 'N days', 'N working days', 'N weeks' or a date")
        amount, unit = int(match.group(1)), match.group(2)
        if not unit.startswith("working"):
            return now + timedelta(days=amount * (7 if unit.startswith("week") else 1))
        with self.runtime.reading() as session:
            day = working_calendar(session).add_working_days(local_date(now), amount)
        return parse_instant(datetime.combine(day, now.astimezone(LONDON).time().replace(tzinfo=None)))


def _plain(value: Any) -> Any:
    """YAML reads unquoted dates as dates: give the runtime the ISO strings a form would."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


def _same(what: str, expected: Any, actual: Any) -> None:
    if expected != actual:
        raise StepMismatch(f"{what}: expected {expected!r}, got {actual!r}")


def _describe(step: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in step.items() if k != "data")


class Workspace:
    """A deployed template database, copied for each scenario (deploying once is faster)."""

    def __init__(self, settings: Settings):
        self._dir = Path(tempfile.mkdtemp(prefix="hsm-scenarios-"))
        self._template = self._dir / "template.db"
        self._settings = replace(settings, database_url=f"sqlite:///{self._template}",
                                 mail_file=self._dir / "mail.log")
        runtime = Runtime(self._settings, VirtualClock(datetime(2000, 1, 1, tzinfo=LONDON)))
        runtime.create_schema()
        seed_organisation(runtime)
        deployment.deploy(runtime, deployment.read_bpmn([settings.processes_dir]), by="scenario")
        runtime.dispose()
        self._count = 0

    def runtime(self, clock: VirtualClock) -> Runtime:
        self._count += 1
        target = self._dir / f"scenario-{self._count}.db"
        shutil.copyfile(self._template, target)
        return Runtime(replace(self._settings, database_url=f"sqlite:///{target}"), clock)

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def run_file(path: Path, workspace: Workspace) -> Outcome:
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    title = spec.get("scenario", path.stem)
    clock = VirtualClock(parse_instant(spec.get("clock", "2026-01-05T09:00:00+00:00")))
    runtime = workspace.runtime(clock)
    run = ScenarioRun(runtime, clock, spec.get("unit", cases.DEFAULT_UNIT))
    try:
        for number, step in enumerate(spec.get("steps") or [], start=1):
            try:
                run.perform(step)
            except (HsmError, StepMismatch) as error:
                return Outcome(str(path), title, False, f"step {number} ({_describe(step)}): {error}")
        return Outcome(str(path), title, True)
    finally:
        runtime.dispose()
