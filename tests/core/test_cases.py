"""Running cases through the service layer: tasks, data, messages, timers, restarts."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hsm_workflow.db.models import CaseEvent, Task
from hsm_workflow.errors import Conflict, Forbidden, InvalidData, NotFound, UnknownMessage
from hsm_workflow.domain.status import CaseStatus
from hsm_workflow.services import access, cases, deployment, tasks
from hsm_workflow.services.runtime import Runtime
from hsm_workflow.services.timers import fire_all_due
from conftest import FIXTURES, TESTER, as_user


@pytest.fixture
def loop_case(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    return cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {"student": "A"})


def open_task(runtime, reference):
    [task] = [t for t in access.case_file(runtime, TESTER, reference).tasks if t.status == "open"]
    return task


def snapshot(runtime, reference):
    """Everything stored about a case (to show a refused request changed nothing)."""
    file = access.case_file(runtime, TESTER, reference)
    with runtime.reading() as session:
        from hsm_workflow.db.models import Case
        case = session.scalar(select(Case).where(Case.reference == reference))
        return file, case.engine_state, case.lock_version


def test_a_started_case_has_a_reference_and_an_open_task_for_the_role_with_its_due_date(runtime, loop_case):
    assert loop_case.reference == "HSM-2026-0001" and loop_case.status == "running"
    task = open_task(runtime, loop_case.reference)
    assert (task.name, task.role, task.due_on) == ("Review the measure", "master", date(2026, 1, 26))
    assert [t.case for t in tasks.list_tasks(runtime, as_user(runtime, "master"))] == [loop_case.reference]
    assert tasks.list_tasks(runtime, as_user(runtime, "senior_tutor")) == []


def test_completing_the_task_by_its_role_moves_the_case_on_and_logs_it(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    following = tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "extend", "reasons": "risk remains"})
    assert following is not None and following.name == "Review the measure" and following.id != task.id
    tasks.complete(runtime, as_user(runtime, "master"), following.id, {"decision": "lift", "reasons": "risk gone"})
    file = access.case_file(runtime, TESTER, loop_case.reference)
    assert file.summary.status == "completed" and file.summary.ended_at is not None
    assert [letter.title for letter in file.letters] == ["Measure lifted (HSM-2026-0001)"]
    assert "Reasons: risk gone" in file.letters[0].body
    assert [e.summary for e in file.events if e.kind == "task"] == ["Task completed: Review the measure"] * 2


def test_a_task_completed_twice_is_refused_and_nothing_changes(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "extend"})
    before = snapshot(runtime, loop_case.reference)
    with pytest.raises(Conflict, match="already completed"):
        tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "lift"})
    assert snapshot(runtime, loop_case.reference) == before


def test_a_user_outside_the_role_is_refused_and_nothing_changes(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    before = snapshot(runtime, loop_case.reference)
    with pytest.raises(Forbidden, match="senior_tutor does not hold the role 'master'"):
        tasks.complete(runtime, as_user(runtime, "senior_tutor"), task.id, {"decision": "lift"})
    assert snapshot(runtime, loop_case.reference) == before


def test_the_role_must_be_held_in_the_case_unit(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    case = cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {}, unit="emmanuel")
    task = open_task(runtime, case.reference)
    with pytest.raises(NotFound):  # the master of Downing does not even see an Emmanuel case
        tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "lift"})


def test_invalid_data_is_refused_naming_the_fields_and_nothing_changes(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    before = snapshot(runtime, loop_case.reference)
    with pytest.raises(InvalidData) as caught:
        tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "abolish", "colour": "red"})
    assert set(caught.value.errors) == {"decision", "colour"}
    with pytest.raises(InvalidData) as caught:
        tasks.complete(runtime, as_user(runtime, "master"), task.id, {})
    assert caught.value.errors == {"decision": ["Missing data for required field."]}
    assert snapshot(runtime, loop_case.reference) == before


def test_a_message_nobody_waits_for_is_refused_and_nothing_changes(runtime, loop_case):
    before = snapshot(runtime, loop_case.reference)
    with pytest.raises(UnknownMessage, match="does not wait for the message 'complaint_withdrawn'"):
        cases.deliver_message(runtime, TESTER, loop_case.reference, "complaint_withdrawn", {}, reason="test")
    assert snapshot(runtime, loop_case.reference) == before


def test_claim_keeps_the_task_for_one_holder(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    tasks.claim(runtime, as_user(runtime, "master"), task.id)
    assert access.case_file(runtime, TESTER, loop_case.reference).tasks[0].claimed_by == "master"
    tasks.unclaim(runtime, as_user(runtime, "master"), task.id)
    assert access.case_file(runtime, TESTER, loop_case.reference).tasks[0].claimed_by is None


def test_a_timer_fires_at_its_due_instant_and_not_before(runtime, clock, loop_case):
    [timer] = access.case_file(runtime, TESTER, loop_case.reference).timers
    assert timer.due_at.isoformat() == "2026-01-26T09:00:00+00:00"
    clock.advance(timedelta(days=21) - timedelta(seconds=1))
    assert fire_all_due(runtime) == 0
    clock.advance(timedelta(seconds=1))
    assert fire_all_due(runtime) == 1
    assert fire_all_due(runtime) == 0
    file = access.case_file(runtime, TESTER, loop_case.reference)
    assert [t.status for t in file.timers] == ["fired"]
    assert "Timer fired: Period ends" in [e.summary for e in file.events]


def test_a_timer_already_due_when_the_case_reaches_it_passes_at_once(runtime, clock):
    """A date in the past (a timeDate from the case's data, a case opened late) does not wait
    for a sweep: the engine passes the event as the case reaches it, and the log shows it."""
    live = FIXTURES.parent / "live" / "fixtures" / "processes"
    deployment.deploy(runtime, {"live_timer_at.bpmn": (live / "live_timer_at.bpmn").read_bytes()}, by="tester")
    past = (clock.now() - timedelta(minutes=5)).isoformat()
    reference = cases.start_case(runtime, TESTER, "live_timer_at", {"fire_at": past}).reference
    file = access.case_file(runtime, TESTER, reference)
    assert file.summary.status == "completed" and file.timers == []
    assert [e.summary for e in file.events if e.kind == "step"] == ["Started", "Wait until fire_at", "Fired"]
    assert fire_all_due(runtime) == 0


def test_suspended_case_refuses_work_until_resumed(runtime, loop_case):
    task = open_task(runtime, loop_case.reference)
    cases.set_status(runtime, TESTER, loop_case.reference, CaseStatus.SUSPENDED, reason="police investigation")
    with pytest.raises(Conflict, match="is suspended"):
        tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "lift"})
    cases.set_status(runtime, TESTER, loop_case.reference, CaseStatus.RUNNING, reason="police finished")
    tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "lift"})
    assert access.case_file(runtime, TESTER, loop_case.reference).summary.status == "completed"


def test_terminated_case_withdraws_its_tasks_and_timers(runtime, loop_case):
    cases.set_status(runtime, TESTER, loop_case.reference, CaseStatus.TERMINATED, reason="opened in error")
    file = access.case_file(runtime, TESTER, loop_case.reference)
    assert file.summary.status == "terminated"
    assert {t.status for t in file.tasks} == {"cancelled"} and {t.status for t in file.timers} == {"cancelled"}
    assert tasks.list_tasks(runtime, as_user(runtime, "master")) == []


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
    reference = cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {"student": "A"}).reference
    for n in range(5):
        runtime.dispose()
        runtime = fresh()
        task = open_task(runtime, reference)
        tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "extend", "reasons": f"pass {n}"})
        runtime.dispose()
        runtime = fresh()
        clock.advance(timedelta(days=22))
        fire_all_due(runtime)
    runtime.dispose()
    runtime = fresh()
    tasks.complete(runtime, as_user(runtime, "master"), open_task(runtime, reference).id, {"decision": "lift"})
    file = access.case_file(runtime, TESTER, reference)
    assert file.summary.status == "completed"
    assert [e.summary for e in file.events].count("Task completed: Review the measure") == 6
    assert [t.status for t in file.timers].count("fired") == 5
    runtime.dispose()


def test_two_users_completing_the_same_task_at_once_one_wins(settings, clock, runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    from hsm_workflow.services.directory import assign_role
    assign_role(runtime, "senior_tutor", "master", "downing")
    for _ in range(3):
        reference = cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {}).reference
        task_id = open_task(runtime, reference).id
        barrier, outcomes = threading.Barrier(2), []

        def attempt(user):
            own = Runtime(settings, clock)
            barrier.wait()
            try:
                tasks.complete(own, as_user(own, user), task_id, {"decision": "lift"})
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
        assert access.case_file(runtime, TESTER, reference).summary.status == "completed"
