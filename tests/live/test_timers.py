"""Timers fire on the wall clock in the served product: within 2 s of their due time,
with the scheduler inside ``serve`` or in a process of its own."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from .conftest import ServedApp, wait_for

ON_TIME = timedelta(seconds=2)
PT3S = timedelta(seconds=3)


def fired_timer(app: ServedApp, reference: str) -> tuple[dict, datetime]:
    """Poll the case through the API until its timer has fired: the timer, and when it was seen fired."""
    def probe():
        [timer] = app.case(reference)["timers"]
        return timer if timer["status"] == "fired" else None

    timer = wait_for(probe, timeout=15, failure=app.processes.logs)
    return timer, datetime.now(timezone.utc)


def assert_on_time(app: ServedApp, case: dict, timer: dict, seen: datetime) -> None:
    due = datetime.fromisoformat(timer["due_at"])
    started = datetime.fromisoformat(case["summary"]["started_at"])
    assert abs(due - started - PT3S) < timedelta(seconds=0.5), (timer, case["summary"])
    assert due <= seen <= due + ON_TIME, f"due {due}, seen fired {seen}\n{app.processes.logs()}"
    [fired] = [e for e in case["events"] if e["kind"] == "timer"]
    assert datetime.fromisoformat(fired["at"]) >= due, fired


SCHEDULERS = pytest.mark.parametrize("scheduler", ["inside_serve", "separate_process"])


def served(scheduler: str, serve, scheduler_process) -> ServedApp:
    """The app, with its timers swept inside ``serve`` or by an ``hsm-workflow scheduler`` beside it."""
    app = serve(scheduler=scheduler == "inside_serve")
    if scheduler == "separate_process":
        scheduler_process()
    return app


@SCHEDULERS
def test_a_catch_timer_fires_within_two_seconds_of_its_due_time(scheduler, serve, scheduler_process):
    app = served(scheduler, serve, scheduler_process)
    reference = app.start_case("live_catch_timer")
    timer, seen = fired_timer(app, reference)
    case = app.case(reference)
    assert_on_time(app, case, timer, seen)
    assert case["summary"]["status"] == "completed", case


@SCHEDULERS
def test_a_boundary_timer_withdraws_its_task_and_runs_the_path_after_it(scheduler, serve, scheduler_process):
    served_app = served(scheduler, serve, scheduler_process)
    reference = served_app.start_case("live_boundary_timer")
    assert [t["status"] for t in served_app.case(reference)["tasks"]] == ["open"]
    timer, seen = fired_timer(served_app, reference)
    case = wait_for(lambda: (c := served_app.case(reference))["summary"]["status"] == "completed" and c,
                    timeout=5, failure=served_app.processes.logs)
    assert_on_time(served_app, case, timer, seen)
    assert [(t["element"], t["status"]) for t in case["tasks"]] == [("Respond", "cancelled")]
    assert [letter["template"] for letter in case["letters"]] == ["live_lapsed"]
    assert any(e["summary"] == "Task withdrawn: Respond within three seconds" for e in case["events"]), case["events"]
