"""Creating, loading and saving process instances.

A case's stored state holds only its task tree: the process specs are stored once per
deployed version and restored from an in-process cache, so the spec (tens of KB) is not
copied into every case and not re-parsed at every step.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

from .instance import ProcessInstance
from .sandbox import SandboxScriptEngine
from .specs import serializer_config

_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(serializer_config()))


def spec_to_json(spec, subprocess_specs: Mapping[str, Any]) -> str:
    """The stored form of a parsed process and the processes it calls."""
    return json.dumps({
        "spec": _SERIALIZER.to_dict(spec),
        "subprocess_specs": {name: _SERIALIZER.to_dict(s) for name, s in subprocess_specs.items()},
    })


class SpecCache:
    """Restored specs by version key; a parsed spec may be shared, a workflow never."""

    def __init__(self, size: int = 64):
        self._size = size
        self._items: OrderedDict[Any, tuple] = OrderedDict()

    def get(self, key: Any, spec_json: Callable[[], str]) -> tuple:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        stored = json.loads(spec_json())
        restored = (
            _SERIALIZER.from_dict(stored["spec"]),
            {name: _SERIALIZER.from_dict(s) for name, s in stored["subprocess_specs"].items()},
        )
        self._items[key] = restored
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return restored


class ProcessEngine:
    """Makes :class:`ProcessInstance` objects from stored specs and state."""

    def __init__(self, functions: Mapping[str, Callable], now: Callable[[], datetime],
                 cache: SpecCache | None = None):
        self._script_engine = SandboxScriptEngine(functions, now)
        self._cache = cache or SpecCache()

    def new_instance(self, version_key: Any, spec_json: Callable[[], str]) -> ProcessInstance:
        spec, subprocess_specs = self._cache.get(version_key, spec_json)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
        return ProcessInstance(workflow, self._script_engine)

    def load(self, version_key: Any, spec_json: Callable[[], str], state: str) -> ProcessInstance:
        spec, subprocess_specs = self._cache.get(version_key, spec_json)
        stored = json.loads(state)
        _SERIALIZER.migrate(stored)
        stored["spec"] = spec
        stored["subprocess_specs"] = subprocess_specs
        return ProcessInstance(_SERIALIZER.from_dict(stored), self._script_engine)

    @staticmethod
    def dump(instance: ProcessInstance) -> str:
        stored = _SERIALIZER.to_dict(instance._workflow)
        del stored["spec"], stored["subprocess_specs"]
        stored[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
        return json.dumps(stored, separators=(",", ":"))
