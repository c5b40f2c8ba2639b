"""A case that passes through a review 500 times keeps working with bounded state."""
from __future__ import annotations

from sqlalchemy import select

from hsm_workflow.db.models import Case
from hsm_workflow.services import access, cases, deployment, tasks
from conftest import FIXTURES, TESTER, as_user


def state_size(runtime, reference) -> int:
    with runtime.reading() as session:
        return len(session.scalar(select(Case.engine_state).where(Case.reference == reference)))


def test_five_hundred_reviews_keep_state_bounded(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    reference = cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {"student": "A"}).reference
    sizes = {}
    for n in range(1, 501):
        [task] = tasks.list_tasks(runtime, as_user(runtime, "master"))
        tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "extend", "reasons": "still needed"})
        if n in (1, 100, 500):
            sizes[n] = state_size(runtime, reference)
    assert sizes[500] <= sizes[1] * 1.1, sizes
    file = access.case_file(runtime, TESTER, reference)
    assert file.summary.status == "running"
    assert sum(1 for e in file.events if e.summary == "Task completed: Review the measure") == 500


def test_a_finished_side_branch_does_not_stop_pruning(runtime, clock):
    from datetime import timedelta
    from hsm_workflow.services.timers import fire_all_due

    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    reference = cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {"student": "A"}).reference
    clock.advance(timedelta(days=22))
    assert fire_all_due(runtime) == 1  # the boundary branch runs to its end event beside the review
    sizes = []
    for n in range(300):
        [task] = tasks.list_tasks(runtime, as_user(runtime, "master"))
        tasks.complete(runtime, as_user(runtime, "master"), task.id, {"decision": "extend"})
        if n in (10, 299):
            sizes.append(state_size(runtime, reference))
    assert sizes[1] <= sizes[0] * 1.1, sizes
