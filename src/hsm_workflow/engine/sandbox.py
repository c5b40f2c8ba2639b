"""A restricted script engine for the Python in diagrams (conditions, scripts, timers).

Every expression and script is compiled with RestrictedPython and run with guarded
attribute, item and iteration access: no imports, no ``open``, no names or attributes
starting with ``_`` (which closes the ``().__class__.__subclasses__()`` escape). It does
not bound CPU time: diagrams are deployed by trusted process owners, and the restriction
is against mistakes and escalation, not denial of service.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getiter, default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

_BUILTINS = {**safe_builtins, **limited_builtins, "dict": dict, "list": list, "set": set,
             "min": min, "max": max, "sum": sum, "any": any, "all": all, "sorted": sorted,
             "enumerate": enumerate}


class ScriptError(Exception):
    """A diagram's expression or script was refused or failed."""


def _inplace(op: str, x: Any, y: Any) -> Any:
    operations = {"+=": lambda: x + y, "-=": lambda: x - y, "*=": lambda: x * y}
    if op not in operations:
        raise ScriptError(f"operator {op} is not allowed")
    return operations[op]()


_GUARDS = {
    "__builtins__": _BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplace,
}


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str):
    result = (compile_restricted_eval if mode == "eval" else compile_restricted_exec)(source)
    if result.errors:
        raise ScriptError("; ".join(result.errors))
    return result.code


def compile_check(source: str, mode: str = "eval") -> None:
    """Raise :class:`ScriptError` if ``source`` would be refused by the sandbox."""
    _compile(source.strip(), mode)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates expressions and runs scripts against task data inside the sandbox."""

    def __init__(self, functions: Mapping[str, Callable]):
        super().__init__(dict(functions))

    def _globals(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict:
        return {**_GUARDS, **self.globals, **(external or {}), **context}

    def evaluate(self, expression, context, external_context=None):
        return eval(_compile(expression.strip(), "eval"), self._globals(context, external_context))

    def execute(self, script, context, external_context=None):
        names = self._globals(context, external_context)
        exec(_compile(script, "exec"), names)
        hidden = set(_GUARDS) | set(self.globals) | set(external_context or {})
        for key, value in names.items():
            if key not in hidden and not key.startswith("_") and not callable(value):
                context[key] = value
        for key in [k for k in context if k not in names]:
            context.pop(key)
        return True


class SandboxScriptEngine(PythonScriptEngine):
    """The script engine attached to every workflow after it is created or loaded.

    It also carries the runtime's clock, which the clocked timers read.
    """

    def __init__(self, functions: Mapping[str, Callable], now: Callable[[], datetime]):
        super().__init__(environment=SandboxEnvironment(functions))
        self.now = now
