"""Diagram scripts and expressions run in a sandbox: escapes fail safely."""
from __future__ import annotations

import sys

import pytest

from hsm_workflow.engine.sandbox import Limits, SandboxEnvironment, ScriptError, ScriptLimitExceeded

ENV = SandboxEnvironment({"double": lambda x: 2 * x})


@pytest.mark.parametrize("expression", [
    "__import__('os').system('true')",
    "open('/etc/passwd').read()",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__mro__[1].__subclasses__()]",
    "getattr((), '__class__')",
    "eval('1')",
])
def test_escaping_expressions_are_refused(expression):
    with pytest.raises((ScriptError, NameError, AttributeError, TypeError)):
        ENV.evaluate(expression, {})


@pytest.mark.parametrize("script", [
    "import os",
    "from os import path",
    "f = open('/tmp/x', 'w')",
    "x = ().__class__",
])
def test_escaping_scripts_are_refused(script):
    with pytest.raises((ScriptError, NameError, AttributeError, ImportError)):
        ENV.execute(script, {})


def test_ordinary_conditions_and_scripts_work_on_task_data():
    assert ENV.evaluate('outcome == "dismiss" and double(n) == 4', {"outcome": "dismiss", "n": 2})
    data = {"n": 2, "gone": 1}
    ENV.execute("total = sum([n, 3])\nlabels = {'a': n}\ndel gone", data)
    assert data == {"n": 2, "total": 5, "labels": {"a": 2}}


def test_a_refused_script_in_a_diagram_fails_the_step_and_changes_nothing(runtime):
    from hsm_workflow.errors import StepFailed
    from hsm_workflow.services import access, cases, deployment
    from conftest import FIXTURES, TESTER, as_user

    xml = (FIXTURES / "processes" / "review_loop.bpmn").read_bytes().replace(
        b'decision == "lift"</bpmn:conditionExpression>',
        b"decision == ().__class__.__base__.__subclasses__()</bpmn:conditionExpression>")
    deployment.deploy(runtime, {"review_loop.bpmn": xml}, by="tester")
    case = cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {})
    [task] = access.case_file(runtime, TESTER, case.reference).tasks
    from hsm_workflow.services import tasks
    with pytest.raises(StepFailed):
        tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "lift"})
    assert access.case_file(runtime, TESTER, case.reference).tasks[0].status == "open"


# --- bounded: every evaluation has CPU, size and memory limits -------------------------

BOUNDED = SandboxEnvironment({}, Limits(cpu_seconds=0.2))


@pytest.mark.parametrize("expression", [
    "'a' * 10**9",
    "10**10**10",
    "[0] * 10**9",
    "7**(25*10**6)",
    "pow(10, 10**10)",
    "1 << 10**9",
    "round(5, -10**8)",
    "'%1000000000d' % 1",
    "'x'.ljust(10**9)",
    "''.join(['a' * 10**7] * 100)",
    "('a' * 1000).replace('a', 'a' * 10**6)",
    "(1).to_bytes(10**9, 'big')",
    "sum([[0] * 10**6] * 50, [])",
])
def test_a_value_over_the_size_limit_is_refused_before_it_is_computed(expression):
    with pytest.raises(ScriptLimitExceeded, match="would make a|format width"):
        BOUNDED.evaluate(expression, {})


def test_ranges_are_bounded_so_builtins_cannot_loop_unseen():
    with pytest.raises(ValueError, match="range"):
        BOUNDED.evaluate("sum(range(10**12))", {})
    with pytest.raises(ValueError, match="range"):
        BOUNDED.execute("for i in range(10**12):\n    pass", {})


@pytest.mark.parametrize("script", [
    "while True:\n    pass",
    "n = 0\nwhile True:\n    n += 1",
    "x = [i for i in range(999) for j in range(999) for k in range(999)]",
    "def forever():\n    while True:\n        yield 1\ntotal = sum(forever())",
    "try:\n    while True:\n        pass\nexcept Exception:\n    pass\nwhile True:\n    pass",
    "try:\n    while True:\n        pass\nexcept:\n    caught = True",
    "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass",
])
def test_a_script_that_never_ends_stops_at_its_cpu_limit_even_if_it_catches_the_error(script):
    data = {}
    with pytest.raises(ScriptLimitExceeded, match=r"exceeded 0.2 s of CPU time"):
        BOUNDED.execute(script, data)
    assert data == {}
    assert sys.gettrace() is None  # the trace is installed only while an evaluation runs


def test_an_expression_that_never_ends_stops_at_its_cpu_limit():
    with pytest.raises(ScriptLimitExceeded, match="CPU time"):
        BOUNDED.evaluate("[i for i in range(999) for j in range(999) for k in range(999)]", {})


def test_values_kept_in_a_loop_stop_at_the_memory_limit():
    ample_time = SandboxEnvironment({}, Limits(cpu_seconds=30))  # so that memory runs out first
    with pytest.raises(ScriptLimitExceeded, match="used more than 200 MB of memory"):
        ample_time.execute("kept = ['a' * 10**6]\nwhile True:\n    kept.append(kept[0] + 'b')", {})


def test_doubling_in_a_loop_stops_at_the_size_limit():
    for script in ("s = 'ab'\nfor i in range(100):\n    s = s + s", "s = 'ab'\nfor i in range(100):\n    s += s",
                   "x = [0] * 10**6\nfor i in range(100):\n    x.extend(x)"):
        with pytest.raises(ScriptLimitExceeded, match="50 MB"):
            BOUNDED.execute(script, {})


@pytest.mark.parametrize("expression", ["f'{3:>1000000000}'", "f'{3:>{n}}'", "'abc'.translate({97: 'x' * 10**6})"])
def test_unbounded_formatting_is_refused(expression):
    with pytest.raises(ScriptError):
        BOUNDED.evaluate(expression, {"n": 5})


@pytest.mark.parametrize("expression, value", [
    ("2**100 * 3", 3 * 2**100), ("'ab' * 3 + 'c'", "abababc"), ("[0] * 3 + [1]", [0, 0, 0, 1]),
    ("10 % 3", 1), ("'%s-%05d' % ('a', 3)", "a-00003"), ("f'{3:>5}'", "    3"), ("divmod(7, 2)", (3, 1)),
    ("round(2.567, 2)", 2.57), ("7 / 2", 3.5), ("7 // 2", 3), ("pow(3, 4, 5)", 1), ("1 << 8", 256),
    ("', '.join(['a', 'b'])", "a, b"), ("'a-b'.replace('-', '+')", "a+b"), ("'7'.zfill(3)", "007"),
])
def test_ordinary_arithmetic_and_text_still_work(expression, value):
    assert BOUNDED.evaluate(expression, {}) == value


def test_the_cpu_limit_is_the_one_passed_in():
    generous = SandboxEnvironment({}, Limits(cpu_seconds=30))
    assert generous.evaluate("len([i for i in range(999) for j in range(99)])", {}) == 98901
    with pytest.raises(ScriptLimitExceeded, match="0.01 s"):
        SandboxEnvironment({}, Limits(cpu_seconds=0.01)).evaluate(
            "len([i for i in range(999) for j in range(999) for k in range(999)])", {})
