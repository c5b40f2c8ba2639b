"""Two scheduler processes, a burst of timers falling due as fast as cases can be started,
one scheduler killed with SIGKILL mid-burst: every timer fires exactly once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, text

from hsm_workflow.db.models import Case, CaseEvent, Timer

from .conftest import LiveDatabase, wait_for

BURST = 200
LEAD = timedelta(seconds=3)  # each case's timer falls due this long after its start is asked for
STARTERS = 3  # API clients starting cases at once


def counts(database: LiveDatabase) -> dict[str, int]:
    """Cases completed; timer rows, fired and still pending; "timer" events; cases fired twice.

    A case started after its ``fire_at`` (a slow machine) passes the event at once and has no
    timer row: only timers that reached the scheduler are counted.
    """
    with database.reading() as session:
        def count(query) -> int:
            return session.scalar(select(func.count()).select_from(query.subquery()))
        return {
            "completed": count(select(Case.id).where(Case.status == "completed")),
            "timers": count(select(Timer.id)),
            "fired": count(select(Timer.id).where(Timer.status == "fired")),
            "pending": count(select(Timer.id).where(Timer.status == "pending")),
            "events": count(select(CaseEvent.id).where(CaseEvent.kind == "timer")),
            "twice": count(select(CaseEvent.case_id).where(CaseEvent.kind == "timer").group_by(CaseEvent.case_id)
                           .having(func.count(CaseEvent.id) > 1)),
        }


def diagnosis(database: LiveDatabase) -> str:
    """What the database holds and, on PostgreSQL, every session and what it waits on."""
    lines = [str(counts(database))]
    with database.reading() as session:
        if session.bind.dialect.name == "postgresql":
            lines += [str(tuple(row)) for row in session.execute(text(
                "SELECT pid, state, wait_event_type, wait_event, now() - xact_start, left(query, 120) "
                "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))]
    return "\n".join(lines)


def test_a_burst_fires_exactly_once_when_one_of_two_schedulers_is_killed(serve, scheduler_process):
    app = serve(scheduler=False)
    victim, survivor = scheduler_process(), scheduler_process()

    def start() -> str:
        return app.start_case("live_timer_at", {"fire_at": (datetime.now(timezone.utc) + LEAD).isoformat()})

    first = start()
    with ThreadPoolExecutor(STARTERS) as pool:
        starting = [pool.submit(start) for _ in range(BURST - 1)]
        wait_for(lambda: counts(app.database)["fired"] >= BURST // 4, timeout=60, failure=app.processes.logs)
        assert victim.popen.poll() is None, app.processes.logs()
        victim.kill()
        references = [first] + [future.result() for future in starting]
    fired_at_kill = counts(app.database)["fired"]

    wait_for(lambda: counts(app.database)["completed"] == BURST, timeout=60,
             failure=lambda: f"{diagnosis(app.database)}\n{app.processes.logs()}")
    assert survivor.popen.poll() is None, app.processes.logs()
    after = counts(app.database)
    assert after["timers"] >= BURST // 2, f"most cases started after their timer was due: {after}"
    assert fired_at_kill < after["timers"], "the kill came after the burst: nothing left for the survivor"
    assert after == {"completed": BURST, "timers": after["timers"], "fired": after["timers"], "pending": 0,
                     "events": after["timers"], "twice": 0}, app.processes.logs()
    assert len(set(references)) == BURST
