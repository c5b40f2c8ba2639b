"""Two scheduler processes, a burst of timers falling due within a few seconds, one
scheduler killed with SIGKILL mid-burst: every timer fires exactly once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from hsm_workflow.db.models import Case, CaseEvent, Timer

from .conftest import LiveDatabase, wait_for

BURST = 200
FIRST_DUE = timedelta(seconds=3)  # after the first cases are started
SPREAD = timedelta(seconds=2)
STARTERS = 3  # API clients starting cases at once


def fired_counts(database: LiveDatabase) -> tuple[int, int, int]:
    """Timer rows fired, "timer" events, cases with more than one "timer" event."""
    with database.reading() as session:
        fired = session.scalar(select(func.count(Timer.id)).where(Timer.status == "fired"))
        events = session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.kind == "timer"))
        twice = session.scalar(select(func.count()).select_from(
            select(CaseEvent.case_id).where(CaseEvent.kind == "timer").group_by(CaseEvent.case_id)
            .having(func.count(CaseEvent.id) > 1).subquery()))
        return fired, events, twice


def test_a_burst_fires_exactly_once_when_one_of_two_schedulers_is_killed(serve, scheduler_process):
    app = serve(scheduler=False)
    victim, survivor = scheduler_process(), scheduler_process()
    first_due = datetime.now(timezone.utc) + FIRST_DUE
    moments = [(first_due + SPREAD * i / BURST).isoformat() for i in range(BURST)]
    first = app.start_case("live_timer_at", {"fire_at": moments[0]})
    with ThreadPoolExecutor(STARTERS) as pool:
        starting = [pool.submit(app.start_case, "live_timer_at", {"fire_at": moment}) for moment in moments[1:]]
        wait_for(lambda: fired_counts(app.database)[0] >= BURST // 4, timeout=60, failure=app.processes.logs)
        assert victim.popen.poll() is None, app.processes.logs()
        victim.kill()
        references = [first] + [future.result() for future in starting]
    fired_at_kill = fired_counts(app.database)[0]
    assert fired_at_kill < BURST, "the kill came after the burst: nothing left for the survivor"

    wait_for(lambda: fired_counts(app.database)[0] >= BURST, timeout=60,
             failure=lambda: f"{fired_counts(app.database)}\n{app.processes.logs()}")
    assert survivor.popen.poll() is None, app.processes.logs()
    assert fired_counts(app.database) == (BURST, BURST, 0), app.processes.logs()
    with app.database.reading() as session:
        statuses = session.execute(select(Case.status, func.count()).group_by(Case.status)).all()
    assert [tuple(row) for row in statuses] == [("completed", BURST)], statuses
    assert len(set(references)) == BURST
