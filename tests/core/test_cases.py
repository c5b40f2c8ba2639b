"""Running cases through the service layer: tasks, data, messages, timers, restarts."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from hsm_workflow.db.models import CaseEvent, Task
from hsm_workflow.errors import Conflict, Forbidden, InvalidData, UnknownMessage
from hsm_workflow.services import cases, deployment, tasks
from hsm_workflow.services.runtime import Runtime
from hsm_workflow.services.timers import fire_all_due
from conftest import FIXTURES


@pytest.fixture
def loop_case(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    return cases.start_case(runtime, "review_loop", {"student": "A"}, by="caseworker")


def open_task(runtime, reference):
    [task] = [t for t in cases.case_file(runtime, reference).tasks if t["status"] == "open"]
    return task


def snapshot(runtime, reference):
    """Everything stored about a case (to show a refused request changed nothing)."""
    file = cases.case_file(runtime, reference)
    with runtime.reading() as session:
        from hsm_workflow.db.models import Case
        case = session.scalar(select(Case).where(Case.reference == reference))
        return file, case.engine_state, case.lock_version


def test_a_started_case_has_a_reference_and_an_open_task_for_the_role_with_its_due_date(runtime, loop_case):
    assert loop_case.reference == "HSM-2026-0001" and loop_case.status == "running"
    task = open_task(runtime, loop_case.reference)
    assert (task["name"], task["role"], task["due_on"]) == ("Review the measure", "master", "2026-01-26")
    assert [t.case for t in tasks.list_tasks(runtime, "master")] == [loop_case.reference]
    assert tasks.list_tasks(runtime, "senior_tutor") == []


def test_completing_the_task_by_its_role_moves_the_case_on_and_logs_it(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    following = tasks.complete(runtime, task["id"], "master", {"decision": "extend", "reasons": "risk remains"})
    assert following is not None and following.name == "Review the measure" and following.id != task["id"]
    tasks.complete(runtime, following.id, "master", {"decision": "lift", "reasons": "risk gone"})
    file = cases.case_file(runtime, loop_case.reference)
    assert file.summary.status == "completed" and file.summary.ended_at is not None
    assert [l["title"] for l in file.letters] == ["Measure lifted (HSM-2026-0001)"]
    assert "Reasons: risk gone" in file.letters[0]["body"]
    assert [e["summary"] for e in file.events if e["kind"] == "task"] == ["Task completed: Review the measure"] * 2


def test_a_task_completed_twice_is_refused_and_nothing_changes(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    tasks.complete(runtime, task["id"], "master", {"decision": "extend"})
    before = snapshot(runtime, loop_case.reference)
    with pytest.raises(Conflict, match="already completed"):
        tasks.complete(runtime, task["id"], "master", {"decision": "lift"})
    assert snapshot(runtime, loop_case.reference) == before


def test_a_user_outside_the_role_is_refused_and_nothing_changes(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    before = snapshot(runtime, loop_case.reference)
    with pytest.raises(Forbidden, match="senior_tutor does not hold the role 'master'"):
        tasks.complete(runtime, task["id"], "senior_tutor", {"decision": "lift"})
    assert snapshot(runtime, loop_case.reference) == before


def test_the_role_must_be_held_in_the_case_unit(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    case = cases.start_case(runtime, "review_loop", {}, by="caseworker", unit="emmanuel")
    task = open_task(runtime, case.reference)
    with pytest.raises(Forbidden):
        tasks.complete(runtime, task["id"], "master", {"decision": "lift"})  # master of Downing


def test_invalid_data_is_refused_naming_the_fields_and_nothing_changes(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    before = snapshot(runtime, loop_case.reference)
    with pytest.raises(InvalidData) as caught:
        tasks.complete(runtime, task["id"], "master", {"decision": "abolish", "colour": "red"})
    assert set(caught.value.errors) == {"decision", "colour"}
    with pytest.raises(InvalidData) as caught:
        tasks.complete(runtime, task["id"], "master", {})
    assert caught.value.errors == {"decision": ["Missing data for required field."]}
    assert snapshot(runtime, loop_case.reference) == before


def test_a_message_nobody_waits_for_is_refused_and_nothing_changes(runtime, loop_case):
    before = snapshot(runtime, loop_case.reference)
    with pytest.raises(UnknownMessage, match="nothing in this case waits for the message 'complaint_withdrawn'"):
        cases.deliver_message(runtime, loop_case.reference, "complaint_withdrawn", {}, by="caseworker")
    assert snapshot(runtime, loop_case.reference) == before


def test_claim_keeps_the_task_for_one_holder(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    tasks.claim(runtime, task["id"], "master")
    assert cases.case_file(runtime, loop_case.reference).tasks[0]["claimed_by"] == "master"
    tasks.unclaim(runtime, task["id"], "master")
    assert cases.case_file(runtime, loop_case.reference).tasks[0]["claimed_by"] is None


def test_a_timer_fires_at_its_due_instant_and_not_before(runtime, clock, loop_case):
    [timer] = cases.case_file(runtime, loop_case.reference).timers
    assert timer["due_at"] == "2026-01-26T09:00:00+00:00"
    clock.advance(timedelta(days=21) - timedelta(seconds=1))
    assert fire_all_due(runtime) == 0
    clock.advance(timedelta(seconds=1))
    assert fire_all_due(runtime) == 1
    assert fire_all_due(runtime) == 0
    file = cases.case_file(runtime, loop_case.reference)
    assert [t["status"] for t in file.timers] == ["fired"]
    assert "Timer fired: Period ends" in [e["summary"] for e in file.events]


def test_suspended_case_refuses_work_until_resumed(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    cases.set_status(runtime, loop_case.reference, cases.SUSPENDED, by="admin", reason="police investigation")
    with pytest.raises(Conflict, match="is suspended"):
        tasks.complete(runtime, task["id"], "master", {"decision": "lift"})
    cases.set_status(runtime, loop_case.reference, cases.RUNNING, by="admin", reason="police finished")
    tasks.complete(runtime, task["id"], "master", {"decision": "lift"})
    assert cases.case_file(runtime, loop_case.reference).summary.status == "completed"


def test_terminated_case_withdraws_its_tasks_and_timers(runtime, loop_case):
    cases.set_status(runtime, loop_case.reference, cases.TERMINATED, by="admin", reason="opened in error")
    file = cases.case_file(runtime, loop_case.reference)
    assert file.summary.status == "terminated"
    assert {t["status"] for t in file.tasks} == {"cancelled"} and {t["status"] for t in file.timers} == {"cancelled"}
    assert tasks.list_tasks(runtime, "master") == []


def test_restarting_the_runtime_between_every_step_loses_nothing(settings, clock):
    def fresh():
        runtime = Runtime(settings, clock)
        return runtime

    first = fresh()
    first.create_schema()
    from hsm_workflow.services.demo import seed_organisation
    seed_organisation(first)
    deployment.deploy(first, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    first.dispose()
    runtime = fresh()
    reference = cases.start_case(runtime, "review_loop", {"student": "A"}, by="caseworker").reference
    for n in range(5):
        runtime.dispose()
        runtime = fresh()
        task = open_task(runtime, reference)
        tasks.complete(runtime, task["id"], "master", {"decision": "extend", "reasons": f"pass {n}"})
        runtime.dispose()
        runtime = fresh()
        clock.advance(timedelta(days=22))
        fire_all_due(runtime)
    runtime.dispose()
    runtime = fresh()
    tasks.complete(runtime, open_task(runtime, reference)["id"], "master", {"decision": "lift"})
    file = cases.case_file(runtime, reference)
    assert file.summary.status == "completed"
    assert [e["summary"] for e in file.events].count("Task completed: Review the measure") == 6
    assert [t["status"] for t in file.timers].count("fired") == 5
    runtime.dispose()


def test_two_users_completing_the_same_task_at_once_one_wins(settings, clock, runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    from hsm_workflow.services.directory import assign_role
    assign_role(runtime, "senior_tutor", "master", "downing")
    for _ in range(3):
        reference = cases.start_case(runtime, "review_loop", {}, by="caseworker").reference
        task_id = open_task(runtime, reference)["id"]
        barrier, outcomes = threading.Barrier(2), []

        def attempt(user):
            own = Runtime(settings, clock)
            barrier.wait()
            try:
                tasks.complete(own, task_id, user, {"decision": "lift"})
                outcomes.append("won")
            except Conflict as error:
                outcomes.append(f"conflict: {error}")
            finally:
                own.dispose()

        threads = [threading.Thread(target=attempt, args=(u,)) for u in ("master", "senior_tutor")]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "won"], outcomes
        with runtime.reading() as session:
            completions = session.scalars(select(CaseEvent).where(CaseEvent.kind == "task")).all()
            assert sum(1 for e in completions if e.summary.startswith("Task completed")) == \
                len(session.scalars(select(Task).where(Task.status == "completed")).all())
        assert cases.case_file(runtime, reference).summary.status == "completed"
