"""Diagram scripts and expressions run in a sandbox: escapes fail safely."""
from __future__ import annotations

import pytest

from hsm_workflow.engine.sandbox import SandboxEnvironment, ScriptError

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
    from hsm_workflow.services import cases, deployment
    from conftest import FIXTURES

    xml = (FIXTURES / "processes" / "review_loop.bpmn").read_bytes().replace(
        b'decision == "lift"</bpmn:conditionExpression>',
        b"decision == ().__class__.__base__.__subclasses__()</bpmn:conditionExpression>")
    deployment.deploy(runtime, {"review_loop.bpmn": xml}, by="tester")
    case = cases.start_case(runtime, "review_loop", {}, by="caseworker")
    [task] = cases.case_file(runtime, case.reference).tasks
    from hsm_workflow.services import tasks
    with pytest.raises(StepFailed):
        tasks.complete(runtime, task["id"], "master", {"decision": "lift"})
    assert cases.case_file(runtime, case.reference).tasks[0]["status"] == "open"
