"""A runaway diagram fails its step and stalls nothing else (findings, "Attacked").

`while True: pass` in a script used to hold the request for ever, and with it the
transaction: on SQLite every other write failed after 30 s, on PostgreSQL new case starts
waited on the reference counter row. Every evaluation now has a CPU limit (1 s by default)
and a diagram may run a bounded number of steps per operation. These tests assert that the
calls *return* (a thread that has not finished after a generous bound fails the test instead
of hanging it), not how fast.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hsm_workflow.db.models import Case, CaseEvent
from hsm_workflow.engine.sandbox import SandboxEnvironment
from hsm_workflow.errors import StepFailed
from hsm_workflow.services import access, cases, deployment, tasks
from hsm_workflow.services.runtime import Runtime
from hsm_workflow.services.timers import fire_due
from conftest import FIXTURES, ROOT, TESTER, as_user

BOUNDED = FIXTURES / "bounded"
RETURNS_WITHIN = 60  # seconds: a bound on "it returned", far above the 1 s limit
LOOP = (FIXTURES / "processes" / "review_loop.bpmn").read_bytes()


@pytest.fixture
def bounded(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([BOUNDED]), by="tester")
    return runtime


def in_thread(action, name: str | None = None):
    """Run ``action`` in a thread; the thread and where its outcome will be."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = action()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True, name=name)
    thread.start()
    return thread, outcome


def returned(action):
    thread, outcome = in_thread(action)
    thread.join(RETURNS_WITHIN)
    assert not thread.is_alive(), f"still running after {RETURNS_WITHIN} s"
    if isinstance(outcome.get("error"), AssertionError):
        raise outcome["error"]
    return outcome


def start(runtime, spin: str):
    return cases.start_case(runtime, as_user(runtime, "caseworker"), "bounded_script", {"spin": spin})


def open_task(runtime, reference):
    [task] = [t for t in access.case_file(runtime, TESTER, reference).tasks if t.status == "open"]
    return task


def stored(runtime, reference):
    """Everything stored about a case, to show a failed step changed nothing."""
    with runtime.reading() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        events = session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id))
        return case.engine_state, case.lock_version, case.status, events, access.case_file(runtime, TESTER, reference)


def case_count(runtime) -> int:
    with runtime.reading() as session:
        return session.scalar(select(func.count(Case.id)))


def test_a_script_looping_for_ever_fails_the_completion_naming_it_and_changes_nothing(bounded):
    reference = start(bounded, "review").reference
    before = stored(bounded, reference)
    task = open_task(bounded, reference)
    outcome = returned(lambda: tasks.complete(bounded, as_user(bounded, "master"), task.id, {"decision": "lift"}))
    assert isinstance(outcome.get("error"), StepFailed), outcome
    assert str(outcome["error"]) == f"{reference}: script in Script_AfterReview exceeded 1 s of CPU time"
    assert stored(bounded, reference) == before
    assert open_task(bounded, reference).id == task.id


def test_a_script_looping_on_start_creates_no_case_and_keeps_no_reference(bounded):
    outcome = returned(lambda: start(bounded, "start"))
    assert isinstance(outcome.get("error"), StepFailed), outcome
    assert "script in Script_OnStart exceeded 1 s of CPU time" in str(outcome["error"])
    assert case_count(bounded) == 0
    assert start(bounded, "none").reference == "HSM-2026-0001"


def test_cases_are_started_and_written_while_a_script_loops_and_after(settings, clock, bounded, monkeypatch):
    waiting = start(bounded, "none").reference
    task = open_task(bounded, waiting)
    spinning = threading.Event()
    execute = SandboxEnvironment.execute

    def noting_the_loop(self, script, context, external_context=None):
        if context.get("spin") == "start" and "Script_OnStart" in threading.current_thread().name:
            spinning.set()
        return execute(self, script, context, external_context)

    monkeypatch.setattr(SandboxEnvironment, "execute", noting_the_loop)
    own = Runtime(settings, clock)
    try:
        looping, outcome = in_thread(lambda: start(own, "start"), name="Script_OnStart")
        assert spinning.wait(RETURNS_WITHIN)
        # during the loop: each waits at most for the looping transaction to end, then runs
        during = returned(lambda: start(bounded, "none").reference)
        written = returned(lambda: tasks.complete(bounded, as_user(bounded, "master"), task.id, {"decision": "lift"}))
        assert "error" not in during and "error" not in written, (during, written)
        looping.join(RETURNS_WITHIN)
        assert not looping.is_alive()
        assert isinstance(outcome.get("error"), StepFailed), outcome
    finally:
        own.dispose()
    after = start(bounded, "none").reference
    assert open_task(bounded, during["value"]).name == "Review"
    assert [t.status for t in access.case_file(bounded, TESTER, waiting).tasks] == ["completed"]
    assert case_count(bounded) == 3 and after.endswith("-0003")


def test_a_timer_leading_into_a_looping_script_puts_that_case_in_error_and_others_still_fire(bounded, clock):
    looping, fine = start(bounded, "timer").reference, start(bounded, "none").reference
    for reference in (looping, fine):
        task = open_task(bounded, reference)
        tasks.complete(bounded, as_user(bounded, "master"), task.id, {"decision": "lift"})
    clock.advance(timedelta(hours=2))
    outcome = returned(lambda: fire_due(bounded))
    sweep = outcome["value"]
    assert (sweep.cases, sweep.timers, sweep.failed) == (2, 1, 1)
    failed = access.case_file(bounded, TESTER, looping)
    assert failed.summary.status == "error"
    assert "script in Script_AfterTimer exceeded 1 s of CPU time" in failed.error
    assert [t.status for t in failed.tasks] == ["completed"]
    assert open_task(bounded, fine).name == "Acknowledge"
    assert fire_due(bounded).cases == 0  # the case in error is not picked again


def test_a_loop_drawn_in_the_diagram_with_nothing_waiting_fails_the_step(bounded):
    outcome = returned(lambda: cases.start_case(bounded, TESTER, "diagram_loop", {"rounds": 0, "limit": 10**9}))
    assert isinstance(outcome.get("error"), StepFailed), outcome
    assert "more than 1,000 steps" in str(outcome["error"]) and "Script_Count" in str(outcome["error"])
    assert case_count(bounded) == 0
    assert cases.start_case(bounded, TESTER, "diagram_loop", {"rounds": 0, "limit": 3}).status == "completed"


# --- refused diagrams through the command line (a subprocess, as a process owner runs it) ---

UTF7 = LOOP.replace(b'encoding="UTF-8"', b'encoding="UTF-7"')
START_ID = LOOP.replace(b'"MeasureImposed"', b'"Start"').replace(b'sourceRef="MeasureImposed"', b'sourceRef="Start"')
HUGE_TIMER = LOOP.replace(b'"P21D"', b"7**(25*10**6)")
REFUSED = [
    (UTF7, "broken.bpmn: XML must be encoded in UTF-8, not 'UTF-7'"),
    (START_ID, "broken.bpmn: Start: the id 'Start' is reserved by the workflow engine; rename the element"),
    (HUGE_TIMER, "broken.bpmn: PeriodEnds: timer expression '7**(25*10**6)' would make a number over 100,000 bits"),
]


def hsm_workflow(*args, env: dict) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("hsm-workflow")), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, **env})


@pytest.fixture
def cli_env(database_url, tmp_path):
    return {"HSM_DATABASE_URL": database_url, "HSM_PROCESSES_DIR": str(FIXTURES / "processes"),
            "HSM_FORMS_DIR": str(FIXTURES / "forms"), "HSM_LETTERS_DIR": str(FIXTURES / "letters"),
            "HSM_MAIL_FILE": str(tmp_path / "mail.log"), "HSM_INSTANCE_DIR": str(tmp_path)}


@pytest.mark.parametrize("xml, reason", REFUSED, ids=["utf-7", "start-id", "huge-timer"])
def test_validate_and_deploy_refuse_with_one_line_per_problem_and_no_traceback(cli_env, tmp_path, xml, reason):
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(xml)
    for command in ("validate", "deploy"):
        result = hsm_workflow(command, broken, *(["--system"] if command == "deploy" else []), env=cli_env)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert result.stderr.splitlines() == [
            reason, "error: deployment refused (1 problems); nothing deployed"], (command, result.stderr)
