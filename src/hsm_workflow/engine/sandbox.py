"""A restricted, bounded script engine for the Python in diagrams (conditions, scripts, timers).

Every expression and script is compiled with RestrictedPython and run with guarded
attribute, item and iteration access: no imports, no ``open``, no names or attributes
starting with ``_`` (which closes the ``().__class__.__subclasses__()`` escape).

Each evaluation is also bounded (:class:`Limits`), so that a mistaken or hostile diagram
fails its step instead of holding a request, its transaction and its locks:

- CPU time: a trace function, installed only while the evaluation runs, sees every line
  event (loops, comprehensions, generators, called functions), checks this thread's CPU
  time every few milliseconds and raises :class:`ScriptLimitExceeded`. Signals would not
  do: they reach the main thread only, and requests run in others. A raising trace function is unset by
  the interpreter, so every ``except``/``finally`` body starts with a check that raises
  again: a script cannot catch the overrun and carry on untraced.
- Size: one C call (``'a' * 10**9``, ``7 ** (25 * 10**6)``) is not interruptible, so the
  operators and methods that can make a value much larger than their inputs go through
  guards that refuse, before computing it, a result over the limit (as simpleeval does
  with MAX_POWER and MAX_STRING_LENGTH); integers, whose arithmetic slows long before
  memory matters, have a bit limit. ``range`` is RestrictedPython's (1,000 items).
- Memory: values kept in a loop (``x.append(s)``) are each small, so the trace also
  checks the process's resident size every few milliseconds and stops an evaluation
  that has grown it by more than ``memory_growth_bytes``.
"""
from __future__ import annotations

import ast
import math
import operator
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from time import perf_counter, thread_time
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython import limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getiter, default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

MB = 2**20
MAX_FORMAT_WIDTH = 1_000  # widths and precisions in % formatting and f-strings


@dataclass(frozen=True)
class Limits:
    """What one evaluation may use. ``cpu_seconds`` comes from ``HSM_SCRIPT_CPU_SECONDS``."""

    cpu_seconds: float = 1.0
    value_bytes: int = 50 * MB
    int_bits: int = 100_000
    memory_growth_bytes: int = 200 * MB


class ScriptError(Exception):
    """A diagram's expression or script was refused or failed."""


class ScriptLimitExceeded(ScriptError, SpiffWorkflowException):
    """An evaluation went over a :class:`Limits` bound.

    A SpiffWorkflow exception, so that the library passes it on unwrapped and the engine
    adapter turns it into a failed step like any other engine error.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.reason = message

    def __str__(self) -> str:
        return self.reason

    def located(self, kind: str, element: str) -> "ScriptLimitExceeded":
        return ScriptLimitExceeded(f"{kind} in {element} {self.reason}")


_SEQUENCES = (str, bytes, list, tuple)


def _bytes(value: Any) -> int:
    """About how much memory a sequence's items take (pointers for lists, code units for text)."""
    if isinstance(value, str):
        return len(value) * (1 if value.isascii() else 4)
    if isinstance(value, bytes):
        return len(value)
    return len(value) * 8


def _int_operands(a: Any, b: Any) -> bool:
    return isinstance(a, int) and isinstance(b, int)


_PRINTF_SPEC = re.compile(rb"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


class _Guards:
    """The operators, methods and builtins that could make a huge value from small inputs."""

    def __init__(self, limits: Limits):
        self.limits = limits

    def size(self, estimate: int) -> None:
        if estimate > self.limits.value_bytes:
            raise ScriptLimitExceeded(f"would make a value over {self.limits.value_bytes // MB} MB")

    def bits(self, estimate: int) -> None:
        if estimate > self.limits.int_bits:
            raise ScriptLimitExceeded(f"would make a number over {self.limits.int_bits:,} bits")

    def add(self, a, b):
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self.size(_bytes(a) + _bytes(b))
        return a + b

    def mul(self, a, b):
        if _int_operands(a, b):
            self.bits(a.bit_length() + b.bit_length())
        elif isinstance(a, _SEQUENCES) and isinstance(b, int):
            self.size(_bytes(a) * b)
        elif isinstance(b, _SEQUENCES) and isinstance(a, int):
            self.size(_bytes(b) * a)
        return a * b

    def pow(self, a, b, modulo=None):
        if _int_operands(a, b) and modulo is None and b > 0 and abs(a) > 1:
            self.bits(b * math.log2(abs(a)))
        elif _int_operands(a, b) and modulo is not None:
            self.bits(max(a.bit_length(), b.bit_length()))
        return pow(a, b) if modulo is None else pow(a, b, modulo)

    def lshift(self, a, b):
        if _int_operands(a, b) and a:
            self.bits(a.bit_length() + b)
        return a << b

    def divide(self, operation: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``/``, ``//``, ``%`` and ``divmod`` on integers are quadratic in their size."""
        def guarded(a, b):
            if _int_operands(a, b):
                self.bits(max(a.bit_length(), b.bit_length()))
            return operation(a, b)
        return guarded

    def mod(self, a, b):
        if isinstance(a, (str, bytes)):
            self._printf(a)
        elif _int_operands(a, b):
            self.bits(max(a.bit_length(), b.bit_length()))
        return a % b

    def _printf(self, template: str | bytes) -> None:
        raw = template.encode("utf-8", "surrogatepass") if isinstance(template, str) else template
        for width, precision in _PRINTF_SPEC.findall(raw):
            for number in (width, precision):
                if number == b"*":
                    raise ScriptError("'*' widths are not allowed in % formatting")
                if number and int(number) > MAX_FORMAT_WIDTH:
                    raise ScriptLimitExceeded(f"uses a format width over {MAX_FORMAT_WIDTH:,}")

    def round(self, number, ndigits=None):
        if isinstance(number, int) and isinstance(ndigits, int) and ndigits < 0:
            self.bits(-ndigits * 4)  # rounding computes 10 ** -ndigits
        return round(number, ndigits)

    def sum(self, items, start=0):
        if isinstance(start, _SEQUENCES):
            items = list(items)
            self.size(_bytes(start) + sum(_bytes(i) for i in items if isinstance(i, _SEQUENCES)))
        return sum(items, start)

    def inplace(self, op: str, x: Any, y: Any) -> Any:
        operations = {"+=": self.add, "-=": operator.sub, "*=": self.mul}
        if op not in operations:
            raise ScriptError(f"operator {op} is not allowed")
        return operations[op](x, y)

    def getattr(self, obj, name, default=None):
        value = safer_getattr(obj, name, default)
        grows = _GROWING_METHODS.get((type(obj), name))
        if grows is None:
            return value

        def bounded(*args, **kwargs):
            args = grows(self, obj, *args, **kwargs)
            return value(*args, **kwargs)
        return bounded


def _join(guards: _Guards, separator, parts):
    parts = list(parts)
    guards.size(sum(_bytes(p) for p in parts if isinstance(p, (str, bytes)))
                + _bytes(separator) * max(len(parts) - 1, 0))
    return (parts,)


def _replace(guards: _Guards, text, old, new, count=-1):
    found = len(text) + 1 if not old else text.count(old)
    found = found if count < 0 else min(found, count)
    guards.size(_bytes(text) + found * _bytes(new))
    return (old, new, count)


def _pad(guards: _Guards, text, width, *fill):
    guards.size(_bytes(text) + width * 4)
    return (width, *fill)


def _expandtabs(guards: _Guards, text, tabsize=8):
    guards.size(_bytes(text) + text.count("\t" if isinstance(text, str) else b"\t") * tabsize * 4)
    return (tabsize,)


def _translate(guards: _Guards, text, table):
    raise ScriptError("translate() is not allowed in diagram code")


def _extend(guards: _Guards, items, more):
    if hasattr(more, "__len__"):
        guards.size(_bytes(items) + len(more) * 8)
    return (more,)


def _to_bytes(guards: _Guards, number, length=1, *rest, **kwargs):
    guards.size(length)
    return (length, *rest)


_GROWING_METHODS: dict[tuple[type, str], Callable] = {
    **{(kind, "join"): _join for kind in (str, bytes)},
    **{(kind, "replace"): _replace for kind in (str, bytes)},
    **{(kind, name): _pad for kind in (str, bytes) for name in ("ljust", "rjust", "center", "zfill")},
    **{(kind, "expandtabs"): _expandtabs for kind in (str, bytes)},
    **{(kind, "translate"): _translate for kind in (str, bytes)},
    (list, "extend"): _extend,
    (int, "to_bytes"): _to_bytes,
    (bool, "to_bytes"): _to_bytes,
}

_BINARY_GUARDS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_",
                  ast.Div: "_truediv_", ast.FloorDiv: "_floordiv_", ast.Mod: "_mod_"}


class BoundedPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: growing operators call guards, every exception
    handler re-checks the CPU budget, and f-string widths are bounded."""

    def visit_BinOp(self, node: ast.BinOp):
        node = self.node_contents_visit(node)
        guard = _BINARY_GUARDS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_Try(self, node: ast.Try):
        node = self.node_contents_visit(node)
        for handler in node.handlers:
            handler.body.insert(0, _budget_check(handler))
        if node.finalbody:
            node.finalbody.insert(0, _budget_check(node.finalbody[0]))
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue):
        spec = node.format_spec
        if spec is not None:
            if any(not isinstance(part, ast.Constant) for part in spec.values):
                self.error(node, "computed format specifications are not allowed")
            elif any(int(n) > MAX_FORMAT_WIDTH for part in spec.values
                     for n in re.findall(r"\d+", str(part.value))):
                self.error(node, f"format widths over {MAX_FORMAT_WIDTH:,} are not allowed")
        return self.node_contents_visit(node)


def _budget_check(near: ast.AST) -> ast.stmt:
    call = ast.Expr(ast.Call(func=ast.Name("_budget_", ast.Load()), args=[], keywords=[]))
    return ast.fix_missing_locations(ast.copy_location(call, near))


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str):
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, policy=BoundedPolicy)
    if result.errors:
        raise ScriptError("; ".join(result.errors))
    return result.code


def compile_check(source: str, mode: str = "eval") -> None:
    """Raise :class:`ScriptError` if ``source`` would be refused by the sandbox."""
    _compile(source.strip(), mode)


def _resident_bytes() -> int | None:
    """This process's resident set size (Linux); None where /proc is not there."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


CHECK_SECONDS = 0.005  # the longest wall time between two checks of CPU time and memory


class _Budget:
    """One evaluation's CPU and memory budget, enforced by a thread-local trace function.

    A line event costs a ``perf_counter`` read (a vDSO call). This thread's CPU time, a
    system call that is slow on some virtual machines, is read only once the evaluation has
    run for a few milliseconds, and then only when enough wall time has passed for the rest
    of the budget to be spent: a thread cannot use more CPU time than the wall time that
    goes by. Short evaluations, nearly all of them, make no system call at all.
    """

    def __init__(self, limits: Limits):
        self.limits = limits
        self.exceeded: ScriptLimitExceeded | None = None
        self.cpu_deadline: float | None = None
        self.resident_at_start: int | None = None

    def __enter__(self) -> "_Budget":
        self.previous = sys.gettrace()
        self.started = perf_counter()
        self.next_check = self.started + min(self.limits.cpu_seconds, CHECK_SECONDS)
        sys.settrace(self._on_call)
        return self

    def __exit__(self, *exc_info) -> None:
        sys.settrace(self.previous)
        if self.exceeded is not None:
            raise self.exceeded  # even if the script caught it and returned or raised another

    def _on_call(self, frame, event, arg):
        return self._on_line

    def _on_line(self, frame, event, arg):
        if event == "line" and perf_counter() > self.next_check:
            self._check()
        return self._on_line

    def _check(self) -> None:
        if self.cpu_deadline is None:  # the CPU time used so far is at most the wall time
            self.cpu_deadline = thread_time() + self.limits.cpu_seconds - (perf_counter() - self.started)
        cpu_left = self.cpu_deadline - thread_time()
        if cpu_left <= 0:
            self._stop(f"exceeded {self.limits.cpu_seconds:g} s of CPU time")
        self._check_memory()
        self.next_check = perf_counter() + min(cpu_left, CHECK_SECONDS)

    def _check_memory(self) -> None:
        resident = _resident_bytes()
        if resident is None:
            return
        if self.resident_at_start is None:
            self.resident_at_start = resident
        elif resident - self.resident_at_start > self.limits.memory_growth_bytes:
            self._stop(f"used more than {self.limits.memory_growth_bytes // MB} MB of memory")

    def _stop(self, reason: str) -> None:
        self.exceeded = ScriptLimitExceeded(reason)
        raise self.exceeded

    def check(self) -> None:
        """Called first in every ``except`` and ``finally`` body (see :class:`BoundedPolicy`)."""
        if self.exceeded is not None:
            raise self.exceeded


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates expressions and runs scripts against task data inside the sandbox."""

    def __init__(self, functions: Mapping[str, Callable], limits: Limits = Limits()):
        super().__init__(dict(functions))
        self.limits = limits
        guards = _Guards(limits)
        self._guards = {
            "__builtins__": {**safe_builtins, **limited_builtins, "dict": dict, "list": list, "set": set,
                             "min": min, "max": max, "sum": guards.sum, "any": any, "all": all, "sorted": sorted,
                             "enumerate": enumerate, "pow": guards.pow, "round": guards.round,
                             "divmod": guards.divide(divmod)},
            "_getattr_": guards.getattr,
            "_getitem_": default_guarded_getitem,
            "_getiter_": default_guarded_getiter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard,
            "_inplacevar_": guards.inplace,
            "_add_": guards.add,
            "_mul_": guards.mul,
            "_pow_": guards.pow,
            "_lshift_": guards.lshift,
            "_truediv_": guards.divide(operator.truediv),
            "_floordiv_": guards.divide(operator.floordiv),
            "_mod_": guards.mod,
        }

    def _globals(self, context: Mapping[str, Any], external: Mapping[str, Any] | None, budget: _Budget) -> dict:
        return {**self._guards, "_budget_": budget.check, **self.globals, **(external or {}), **context}

    def evaluate(self, expression, context, external_context=None):
        code = _compile(expression.strip(), "eval")
        with _Budget(self.limits) as budget:
            return eval(code, self._globals(context, external_context, budget))

    def execute(self, script, context, external_context=None):
        code = _compile(script, "exec")
        with _Budget(self.limits) as budget:
            names = self._globals(context, external_context, budget)
            exec(code, names)
        hidden = set(self._guards) | {"_budget_"} | set(self.globals) | set(external_context or {})
        for key, value in names.items():
            if key not in hidden and not key.startswith("_") and not callable(value):
                context[key] = value
        for key in [k for k in context if k not in names]:
            context.pop(key)
        return True


class SandboxScriptEngine(PythonScriptEngine):
    """The script engine attached to every workflow after it is created or loaded.

    It also carries the runtime's clock, which the clocked timers read, and names the
    diagram element in a limit error.
    """

    def __init__(self, functions: Mapping[str, Callable], now: Callable[[], datetime],
                 limits: Limits = Limits()):
        super().__init__(environment=SandboxEnvironment(functions, limits))
        self.now = now

    def evaluate(self, task, expression, external_context=None):
        try:
            return super().evaluate(task, expression, external_context)
        except ScriptLimitExceeded as error:
            raise error.located("expression", _element(task)) from None

    def execute(self, task, script, external_context=None):
        try:
            return super().execute(task, script, external_context)
        except ScriptLimitExceeded as error:
            raise error.located("script", _element(task)) from None


def _element(task) -> str:
    return task.task_spec.bpmn_id or task.task_spec.name
