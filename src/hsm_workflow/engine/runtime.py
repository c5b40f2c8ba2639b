"""Creating, loading and saving process instances.

A case's stored state holds its task tree, not the process specs: those are stored once
per deployed version. SpiffWorkflow mutates a spec when an event sub-process is
triggered (the start task is connected to it), so every instance gets specs of its own,
restored from the version's JSON, and the connections its event sub-processes made are
kept in the case state and made again on load.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask

from .instance import ProcessInstance
from .sandbox import Limits, SandboxScriptEngine
from .specs import serializer_config

_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(serializer_config()))
TRIGGERED = "hsm_triggered_event_subprocesses"


def spec_to_json(spec, subprocess_specs: Mapping[str, Any]) -> str:
    """The stored form of a parsed process and the processes it calls."""
    return json.dumps({
        "spec": _SERIALIZER.to_dict(spec),
        "subprocess_specs": {name: _SERIALIZER.to_dict(s) for name, s in subprocess_specs.items()},
    })


def _restore(spec_json: str) -> tuple:
    stored = json.loads(spec_json)
    return (_SERIALIZER.from_dict(stored["spec"]),
            {name: _SERIALIZER.from_dict(s) for name, s in stored["subprocess_specs"].items()})


def _all_specs(spec, subprocess_specs: Mapping[str, Any]):
    yield spec
    yield from subprocess_specs.values()


def _triggered(spec, subprocess_specs) -> dict[str, list[str]]:
    """Event sub-processes the engine has connected to their process's start task.

    (A start task's own outputs are start events; a sub-process after it was triggered.)
    """
    found = {}
    for each in _all_specs(spec, subprocess_specs):
        names = [ts.name for ts in each.task_specs.values()
                 if isinstance(ts, SubWorkflowTask) and each.start in ts.inputs]
        if names:
            found[each.name] = names
    return found


def _retrigger(spec, subprocess_specs, triggered: Mapping[str, list[str]]) -> None:
    for each in _all_specs(spec, subprocess_specs):
        for name in triggered.get(each.name, []):
            event_subprocess = each.task_specs[name]
            each.start.connect(event_subprocess)
            event_subprocess.connect(each.end)


class ProcessEngine:
    """Makes :class:`ProcessInstance` objects from stored specs and state."""

    def __init__(self, functions: Mapping[str, Callable], now: Callable[[], datetime], limits: Limits = Limits()):
        self._script_engine = SandboxScriptEngine(functions, now, limits)

    def new_instance(self, spec_json: str) -> ProcessInstance:
        spec, subprocess_specs = _restore(spec_json)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
        return ProcessInstance(workflow, self._script_engine)

    def load(self, spec_json: str, state: str) -> ProcessInstance:
        spec, subprocess_specs = _restore(spec_json)
        stored = json.loads(state)
        _retrigger(spec, subprocess_specs, stored.pop(TRIGGERED, {}))
        _SERIALIZER.migrate(stored)
        stored["spec"] = spec
        stored["subprocess_specs"] = subprocess_specs
        return ProcessInstance(_SERIALIZER.from_dict(stored), self._script_engine)

    @staticmethod
    def dump(instance: ProcessInstance) -> str:
        workflow = instance._workflow
        stored = _SERIALIZER.to_dict(workflow)
        del stored["spec"], stored["subprocess_specs"]
        stored[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
        stored[TRIGGERED] = _triggered(workflow.spec, workflow.subprocess_specs)
        return json.dumps(stored, separators=(",", ":"))
