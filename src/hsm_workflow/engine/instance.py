"""A running process instance: the engine adapter's face to the service layer.

The service layer never sees SpiffWorkflow objects: it gets plain views of open user
tasks and pending timers, and the *effects* of each step (completed steps for the event
log, letters to write, linked cases to start, case-clock pauses).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from .pruning import prune
from .sandbox import SandboxScriptEngine


def delivered_by(declared: str) -> list[str]:
    """The role codes of a ``deliveredBy`` property: ``"senior_tutor, caseworker"``."""
    return [code.strip() for code in declared.split(",") if code.strip()]


MAX_STEPS = 1_000
"""Engine steps one operation may run: a diagram loop with no task or event in it stops
here, as a script's own loop stops at its CPU limit."""


class EngineError(Exception):
    """The engine refused an operation or a diagram's step failed."""


class NotWaiting(EngineError):
    """Nothing in the case waits for this message."""


@dataclass(frozen=True)
class OpenUserTask:
    engine_id: str
    element_id: str
    name: str
    role: str | None
    form: str | None
    due: str | None
    reminder: str | None
    escalate_to: tuple[str, ...]
    instructions: str
    variables: Mapping[str, Any]


@dataclass(frozen=True)
class PendingTimer:
    engine_id: str
    element_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class CompletedStep:
    element_id: str
    name: str
    kind: str
    extensions: Mapping[str, str]
    variables: Mapping[str, Any]


@dataclass
class Effects:
    """What a step did that the service layer must record or act upon."""

    steps: list[CompletedStep] = field(default_factory=list)

    def with_extension(self, key: str) -> list[CompletedStep]:
        return [step for step in self.steps if step.extensions.get(key)]


def _all_tasks(workflow: BpmnWorkflow):
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


def _step_of(task) -> CompletedStep:
    """A finished step; its variables are copied only where an extension will read them."""
    spec = task.task_spec
    extensions = dict(getattr(spec, "extensions", {}) or {})
    return CompletedStep(
        element_id=spec.bpmn_id or spec.name,
        name=spec.bpmn_name or spec.bpmn_id or spec.name,
        kind=type(spec).__name__,
        extensions=extensions,
        variables=dict(task.data) if extensions else {},
    )


class ProcessInstance:
    """One case's workflow, loaded for the length of one service operation."""

    def __init__(self, workflow: BpmnWorkflow, engine: SandboxScriptEngine):
        self._workflow = workflow
        workflow.script_engine = engine  # notes item 3: re-attach after every load

    # --- what the case looks like -------------------------------------------------
    @property
    def completed(self) -> bool:
        return self._workflow.completed

    @property
    def variables(self) -> dict[str, Any]:
        """The data of the latest finished step (what a letter or summary shows)."""
        last = self._workflow.last_task
        return dict(last.data) if last is not None else dict(self._workflow.data)

    def open_user_tasks(self) -> list[OpenUserTask]:
        tasks = []
        for task in _all_tasks(self._workflow):
            if isinstance(task.task_spec, UserTask) and task.state == TaskState.READY:
                tasks.append(self._user_task_view(task))
        return tasks

    @staticmethod
    def _user_task_view(task) -> OpenUserTask:
        spec = task.task_spec
        ext = spec.extensions or {}
        return OpenUserTask(
            engine_id=str(task.id),
            element_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id,
            role=ext.get("role"),
            form=ext.get("form"),
            due=ext.get("due"),
            reminder=ext.get("reminder"),
            escalate_to=tuple(ext.get("escalateTo", "").split()),
            instructions=spec.documentation or "",
            variables=dict(task.data),
        )

    def pending_timers(self) -> list[PendingTimer]:
        timers = []
        for task in _all_tasks(self._workflow):
            spec = task.task_spec
            definition = getattr(spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition) or task.state != TaskState.WAITING:
                continue
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):
                value = value.get("next") if value.get("cycles") else None
            if value:
                timers.append(PendingTimer(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id,
                                           datetime.fromisoformat(value)))
        return timers

    def waiting_messages(self) -> dict[str, frozenset[str]]:
        """The messages the case waits for, each with the roles its events let deliver it.

        Roles come from the events' ``deliveredBy`` property (comma-separated role codes); a
        message no waiting event gives a role is runtime-only (e.g. ``case_closed``).
        """
        roles: dict[str, set[str]] = {}
        for definition, spec in self._message_catchers():
            declared = getattr(spec, "extensions", {}).get("deliveredBy", "")
            roles.setdefault(definition.name, set()).update(delivered_by(declared))
        return {name: frozenset(codes) for name, codes in roles.items()}

    def _message_catchers(self):
        """(message definition, event spec) of each message event that would catch now.

        Waiting events; the events after a waiting event-based gateway (the engine moves their
        definitions onto the gateway, in the order of its outputs); and the start events of the
        message-triggered event sub-processes while the process runs (the engine keeps those on
        the process's start task, not in the task tree).
        """
        for task in _all_tasks(self._workflow):
            if task.state != TaskState.WAITING:
                continue
            spec = task.task_spec
            if isinstance(spec, EventBasedGateway):
                pairs = zip(spec.event_definition.event_definitions, spec.outputs)
            else:
                pairs = [(getattr(spec, "event_definition", None), spec)]
            yield from ((d, s) for d, s in pairs if isinstance(d, MessageEventDefinition))
        if self._workflow.completed:
            return
        for name in self._workflow.spec.start.trigger_specs:
            for start in self._workflow.subprocess_specs[name].bpmn_start_events:
                if isinstance(start.event_definition, MessageEventDefinition):
                    yield start.event_definition, start

    # --- what can be done to it ---------------------------------------------------
    def start(self, variables: Mapping[str, Any]) -> Effects:
        self._workflow.task_tree.data.update(variables)
        return self._advance()

    def complete_user_task(self, engine_id: str, data: Mapping[str, Any]) -> Effects:
        task = self._find(engine_id)
        if task.state != TaskState.READY or not isinstance(task.task_spec, UserTask):
            raise EngineError(f"task {engine_id} is not ready")  # notes item 4
        task.set_data(**data)
        effects = Effects()
        self._run(lambda: task.run())
        effects.steps.append(_step_of(task))
        return self._advance(effects)

    def deliver_message(self, name: str, payload: Mapping[str, Any]) -> Effects:
        event = BpmnEvent(MessageEventDefinition(name), payload={"payload": dict(payload), "result_var": name})
        try:
            self._workflow.send_event(event)
        except WorkflowException as error:
            raise NotWaiting(f"nothing in this case waits for the message {name!r}") from error
        except SpiffWorkflowException as error:  # a sandbox limit (see engine/sandbox.py)
            raise EngineError(str(error)) from error
        return self._advance()

    def fire_timers(self) -> Effects:
        """Fire every timer due by the engine's clock, once each (one occurrence of a cycle)."""
        self._run(self._workflow.refresh_timers)
        return self._advance()

    def cancel(self) -> None:
        self._workflow.cancel()

    # --- plumbing -----------------------------------------------------------------
    def _find(self, engine_id: str):
        try:
            return self._workflow.get_task_from_id(UUID(engine_id))
        except (ValueError, SpiffWorkflowException) as error:
            raise EngineError(f"no task {engine_id} in this case") from error

    def _advance(self, effects: Effects | None = None) -> Effects:
        effects = effects or Effects()
        steps = 0

        def record(task):
            nonlocal steps
            steps += 1
            if steps > MAX_STEPS:
                raise EngineError(f"the diagram ran more than {MAX_STEPS:,} steps without waiting for anything "
                                  f"(last: {task.task_spec.bpmn_id or task.task_spec.name}); is there a loop?")
            if task.task_spec.bpmn_id and (task.task_spec.bpmn_name or getattr(task.task_spec, "extensions", None)):
                effects.steps.append(_step_of(task))

        self._run(lambda: self._workflow.do_engine_steps(did_complete_task=record))
        prune(self._workflow)
        return effects

    @staticmethod
    def _run(action: Callable[[], Any]) -> None:
        try:
            action()
        except SpiffWorkflowException as error:
            raise EngineError(str(error)) from error
