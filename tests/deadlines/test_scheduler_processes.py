"""Scheduler processes on PostgreSQL: every due timer fires exactly once, even with two
schedulers at once or one killed mid-run."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from hsm_workflow.clock import VirtualClock
from hsm_workflow.db.models import CaseEvent, Timer
from hsm_workflow.services import cases, deployment
from hsm_workflow.services.demo import seed_organisation
from hsm_workflow.services.runtime import Runtime
from conftest import FIXTURES, PG_URL, TESTER, make_settings, postgresql_schema

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs HSM_TEST_DATABASE_URL (PostgreSQL)")
TIMERS = 1000
LONG_AGO = datetime(2020, 1, 6, 9, tzinfo=timezone.utc)  # timers fall due in 2020: due now on the real clock


@pytest.fixture
def due_timers(tmp_path):
    with postgresql_schema() as url:
        runtime = Runtime(make_settings(url, tmp_path, fixtures=True), VirtualClock(LONG_AGO))
        runtime.create_schema()
        seed_organisation(runtime)
        deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
        for _ in range(TIMERS):
            cases.start_case(runtime, TESTER, "review_loop", {})
        yield runtime, url
        runtime.dispose()


def scheduler(url: str, tmp_path) -> subprocess.Popen:
    env = {**os.environ, "HSM_DATABASE_URL": url, "HSM_PROCESSES_DIR": str(FIXTURES / "processes"),
           "HSM_FORMS_DIR": str(FIXTURES / "forms"), "HSM_LETTERS_DIR": str(FIXTURES / "letters"),
           "HSM_MAIL_FILE": str(tmp_path / "mail.log")}
    return subprocess.Popen([sys.executable, "-m", "hsm_workflow", "scheduler", "--until-idle"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fired_counts(runtime) -> tuple[int, int, int]:
    with runtime.reading() as session:
        fired = session.scalar(select(func.count(Timer.id)).where(Timer.status == "fired"))
        events = session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.kind == "timer"))
        cases_with_two = session.scalar(select(func.count()).select_from(
            select(CaseEvent.case_id).where(CaseEvent.kind == "timer").group_by(CaseEvent.case_id)
            .having(func.count(CaseEvent.id) > 1).subquery()))
        return fired, events, cases_with_two


def test_two_schedulers_fire_a_thousand_timers_exactly_once(due_timers, tmp_path):
    runtime, url = due_timers
    first, second = scheduler(url, tmp_path), scheduler(url, tmp_path)
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    counts = [int(out.split()[1]) for out, _ in outputs]
    assert sum(counts) == TIMERS, counts
    assert fired_counts(runtime) == (TIMERS, TIMERS, 0)


def test_a_scheduler_killed_mid_run_loses_nothing_and_fires_nothing_twice(due_timers, tmp_path):
    runtime, url = due_timers
    victim = scheduler(url, tmp_path)
    deadline = time.monotonic() + 120
    while fired_counts(runtime)[0] < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    fired_before, _, _ = fired_counts(runtime)
    assert 0 < fired_before < TIMERS
    survivor = scheduler(url, tmp_path)
    out, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err
    assert fired_counts(runtime) == (TIMERS, TIMERS, 0)
