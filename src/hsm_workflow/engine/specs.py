"""Task and event specs that hsm-workflow adds to SpiffWorkflow's Camunda flavour.

- user tasks keep their Camunda assignment attributes (role, form, due date) in
  ``task_spec.extensions`` so that they survive serialization;
- service tasks are *actions* (a letter, a linked case) that complete at once and leave
  the work to the service layer;
- timers read the runtime's clock instead of ``datetime.now`` so that the scheduler can
  fire them "at" an instant and scenarios can run on a virtual clock.
"""
from __future__ import annotations

from copy import deepcopy
from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser, UserTaskParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.util.task import TaskState

from ..domain.calendar import parse_instant

#: Camunda attributes of a user task copied into ``extensions`` (attribute -> key).
USER_TASK_ATTRIBUTES = {
    "candidateGroups": "role",
    "formRef": "form",
    "dueDate": "due",
}


class PropertiesMixin:
    """Reads an element's own ``camunda:properties`` into ``extensions``, on events too.

    The library reads them on tasks only, and with a descendant search that hands a
    sub-process every property of the elements inside it.
    """

    def parse_extensions(self, node=None):
        return {prop.get("name"): prop.get("value") for prop in
                self.xpath("./bpmn:extensionElements/camunda:properties/camunda:property")}


def _with_properties(parser_class):
    return type(f"Hsm{parser_class.__name__}", (PropertiesMixin, parser_class), {})


class HsmUserTaskParser(PropertiesMixin, UserTaskParser):
    """Reads the Camunda assignment attributes a modeller's properties panel edits."""

    def parse_extensions(self, node=None):
        extensions = super().parse_extensions(node)
        for attribute, key in USER_TASK_ATTRIBUTES.items():
            value = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}{attribute}")
            if value is not None:
                extensions[key] = value.strip()
        return extensions


class ActionTask(ServiceTask):
    """A service task: completes at once; its ``extensions`` tell the runtime what to do."""

    def _run_hook(self, my_task):
        return True


def _now(my_task) -> datetime:
    return my_task.workflow.script_engine.now()


def _evaluate(my_task, expression):
    return my_task.workflow.script_engine.evaluate(my_task, expression)


def _has_fired(my_task, first_due) -> bool:
    """Fix the due instant the first time the timer is reached, then compare with the clock."""
    value = my_task._get_internal_data("event_value")
    if value is None:
        value = first_due().isoformat()
        my_task._set_internal_data(event_value=value)
    if datetime.fromisoformat(value) <= _now(my_task):
        my_task._set_internal_data(event_fired=True)
    return my_task._get_internal_data("event_fired", False)


class ClockedTimeDate(TimeDateEventDefinition):
    """A timer at a date/time; naive values are read in Europe/London."""

    def has_fired(self, my_task):
        return _has_fired(my_task, lambda: parse_instant(_evaluate(my_task, self.expression)))


class ClockedDuration(DurationTimerEventDefinition):
    """A timer a duration after the moment it is reached."""

    def has_fired(self, my_task):
        def first_due():
            parsed = TimerEventDefinition.parse_iso_duration(_evaluate(my_task, self.expression))
            start = _now(my_task)
            return start + TimerEventDefinition.get_timedelta_from_start(parsed, start)

        return _has_fired(my_task, first_due)


class ClockedCycle(CycleTimerEventDefinition):
    """A repeating timer; fires at most one occurrence per refresh and skips missed ones."""

    def cycle_complete(self, my_task):
        value = my_task._get_internal_data("event_value")
        if value is None:
            cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(
                _evaluate(my_task, self.expression))
            value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if value["cycles"] != 0:
            next_event = datetime.fromisoformat(value["next"])
            if next_event <= _now(my_task):
                value["next"] = _next_after(next_event, timedelta(seconds=value["duration"]), _now(my_task))
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=value)
        return ready


def _next_after(occurrence: datetime, period: timedelta, now: datetime) -> str:
    """The first occurrence after ``now``: occurrences missed during downtime are skipped,
    so a case catches up with one firing, not a pile of them."""
    following = occurrence + period
    while following <= now:
        following += period
    return following.isoformat()


CLOCKED_TIMERS = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
    CycleTimerEventDefinition: ClockedCycle,
}


class HsmParser(CamundaParser):
    """Camunda parser with hsm-workflow's user tasks, action tasks and clocked timers."""

    OVERRIDE_PARSER_CLASSES = {
        **{tag: (_with_properties(parser), spec) for tag, (parser, spec) in CamundaParser.OVERRIDE_PARSER_CLASSES.items()},
        full_tag("userTask"): (HsmUserTaskParser, UserTask),
        full_tag("serviceTask"): (_with_properties(CamundaTaskParser), ActionTask),
    }


def use_clocked_timers(process_spec) -> None:
    """Swap the library's timers (which read ``datetime.now``) for clocked ones."""
    for task_spec in process_spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        clocked = CLOCKED_TIMERS.get(type(definition))
        if clocked is not None:
            task_spec.event_definition = clocked(
                definition.name, definition.expression, description=definition.description)


def serializer_config() -> dict:
    """The serializer configuration matching :class:`HsmParser`."""
    config = deepcopy(CAMUNDA_CONFIG)
    config[ActionTask] = BpmnTaskSpecConverter
    for clocked in CLOCKED_TIMERS.values():
        config[clocked] = TimerConditionalEventDefinitionConverter
    return config


OPEN = TaskState.NOT_FINISHED_MASK
