"""Running a step of a case and writing everything it changed in the same transaction.

Every operation on a case goes through :func:`advance`: load the instance, act, then
record the effects (event log, letters, linked cases, clock pauses), bring the task and
timer rows in line with the engine, and save the engine state. The version counter on
the case row makes concurrent steps on one case fail cleanly instead of interleaving.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Case, CaseEvent, ClockPause, ClosureDay, Letter, ProcessVersion, Task, Timer
from ..domain.calendar import WorkingCalendar, end_of_day, local_date, start_of_day
from ..domain.deadlines import Deadline, Reminder, start_date
from ..domain.status import TaskStatus, TimerStatus
from ..engine.functions import script_functions
from ..engine.instance import Effects, EngineError, NotWaiting, OpenUserTask, ProcessInstance
from ..engine.runtime import ProcessEngine
from ..engine.sandbox import Limits
from ..errors import StepFailed, UnknownMessage
from .letters import render_letter
from .runtime import Runtime



def working_calendar(session: Session) -> WorkingCalendar:
    return WorkingCalendar(session.scalars(select(ClosureDay.day)))


def process_engine(runtime: Runtime, calendar: WorkingCalendar) -> ProcessEngine:
    now = runtime.clock.now
    return ProcessEngine(script_functions(calendar, now), now, Limits(cpu_seconds=runtime.settings.script_cpu_seconds))


def record(session: Session, case: Case, at: datetime, actor: str, kind: str, summary: str,
           data: Mapping[str, Any] | None = None) -> None:
    """Append to the case's event log."""
    session.add(CaseEvent(case_id=case.id, at=at, actor=actor, kind=kind, summary=summary[:500],
                          data=dict(data) if data is not None else None))


class Stepper:
    """Loads a case's instance, runs one action and writes back what changed."""

    def __init__(self, runtime: Runtime, session: Session):
        self.runtime, self.session = runtime, session
        self.calendar = working_calendar(session)
        self.engine = process_engine(runtime, self.calendar)
        self.now = runtime.clock.now()

    def new_instance(self, version: ProcessVersion) -> ProcessInstance:
        return self.engine.new_instance(version.spec_json)

    def load(self, case: Case) -> ProcessInstance:
        return self.engine.load(case.process_version.spec_json, case.engine_state)

    def advance(self, case: Case, instance: ProcessInstance, action: Callable[[ProcessInstance], Effects],
                actor: str, on_linked_start: Callable[[Case, str, dict], None]) -> Effects:
        try:
            effects = action(instance)
        except NotWaiting as error:
            raise UnknownMessage(f"{case.reference}: {error}") from error
        except EngineError as error:
            raise StepFailed(f"{case.reference}: {error}") from error
        self._apply(case, effects, actor, on_linked_start)
        self.sync(case, instance)
        return effects

    def _apply(self, case: Case, effects: Effects, actor: str, on_linked_start) -> None:
        for step in effects.steps:
            record(self.session, case, self.now, actor, "step", f"{step.name}",
                   {"element": step.element_id, "type": step.kind})
            ext = step.extensions
            if ext.get("letter"):
                self._write_letter(case, ext["letter"], step.element_id, step.variables)
            if ext.get("caseClock"):
                self._clock(case, ext["caseClock"], ext.get("pauseReason") or step.name)
            if ext.get("startProcess"):
                on_linked_start(case, ext["startProcess"], dict(step.variables))

    def _write_letter(self, case: Case, template: str, element_id: str, variables: Mapping[str, Any]) -> None:
        source = case.process_version.assets["letters"][template]
        context = {**variables, "case": {"reference": case.reference, "unit": case.unit.name,
                                         "title": case.title}, "today": local_date(self.now).isoformat()}
        letter = render_letter(template, source, context)
        self.session.add(Letter(case_id=case.id, template=template, element_id=element_id,
                                title=letter.title, body=letter.body, created_at=self.now))
        record(self.session, case, self.now, "system", "letter", f"Letter produced: {letter.title}",
               {"template": template})

    def _clock(self, case: Case, change: str, reason: str) -> None:
        running = self.session.scalar(select(ClockPause).where(ClockPause.case_id == case.id,
                                                               ClockPause.ended_at.is_(None)))
        if change == "pause" and running is None:
            self.session.add(ClockPause(case_id=case.id, reason=reason, started_at=self.now))
            record(self.session, case, self.now, "system", "clock", f"Case clock paused: {reason}")
        elif change == "resume" and running is not None:
            running.ended_at = self.now
            record(self.session, case, self.now, "system", "clock", "Case clock resumed")

    # --- rows that mirror the engine ----------------------------------------------
    def sync(self, case: Case, instance: ProcessInstance) -> None:
        self._sync_tasks(case, instance.open_user_tasks())
        self._sync_timers(case, instance)
        case.engine_state = self.engine.dump(instance)

    def _sync_tasks(self, case: Case, open_tasks: list[OpenUserTask]) -> None:
        rows = {row.engine_task_id: row for row in self.session.scalars(
            select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN))}
        for view in open_tasks:
            if view.engine_id not in rows:
                self.session.add(self._new_task(case, view))
        live = {view.engine_id for view in open_tasks}
        for engine_id, row in rows.items():
            if engine_id not in live:
                row.status = TaskStatus.CANCELLED
                record(self.session, case, self.now, "system", "task", f"Task withdrawn: {row.name}")

    def _new_task(self, case: Case, view: OpenUserTask) -> Task:
        due_on = due_at = remind_at = None
        if view.due:
            deadline = Deadline.parse(view.due)
            due_on = deadline.due_on(start_date(deadline, view.variables, self.now), self.calendar)
            due_at = end_of_day(due_on)
            if view.reminder:
                remind_at = start_of_day(Reminder.parse(view.reminder).remind_on(due_on, self.calendar))
        return Task(case_id=case.id, unit_id=case.unit_id, engine_task_id=view.engine_id,
                    element_id=view.element_id, name=view.name, role=view.role, form_id=view.form,
                    instructions=view.instructions, status=TaskStatus.OPEN, opened_at=self.now, due_on=due_on,
                    due_at=due_at, remind_at=remind_at, escalate_to=" ".join(view.escalate_to))

    def _sync_timers(self, case: Case, instance: ProcessInstance) -> None:
        rows = {row.engine_task_id: row for row in self.session.scalars(
            select(Timer).where(Timer.case_id == case.id, Timer.status == TimerStatus.PENDING))}
        pending = {timer.engine_id: timer for timer in instance.pending_timers()}
        for engine_id, timer in pending.items():
            row = rows.get(engine_id)
            if row is None:
                self.session.add(Timer(case_id=case.id, engine_task_id=engine_id, element_id=timer.element_id,
                                       name=timer.name, due_at=timer.due_at, status=TimerStatus.PENDING))
            elif row.due_at != timer.due_at:  # a cycle moved on to its next occurrence
                row.due_at = timer.due_at
        for engine_id, row in rows.items():
            if engine_id not in pending:
                fired = row.due_at <= self.now
                row.status = TimerStatus.FIRED if fired else TimerStatus.CANCELLED
                row.fired_at = self.now if fired else None
