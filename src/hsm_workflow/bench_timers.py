"""Timer lateness on the wall clock, as deployed: ``hsm-workflow scheduler`` processes.

Two figures, kept apart:

- **steady state**: timers falling due one at a time, a few per second, one scheduler;
  how late each is seen fired (p50, p95, worst);
- **burst**: 1,000 timers due at the same second, with one and with two scheduler
  processes; how late the last one is seen fired (and the median).

"Seen fired" is when a poll of the database (every 20 ms) first finds the timer's row
fired: its commit, as another process sees it, not the firing transaction's own clock.
Cases are started in this process before their timers fall due; scheduler processes start
(and finish their start-up) before that.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, select, text

from .config import PROJECT_ROOT, Settings
from .db.models import Timer
from .domain.principals import Principal
from .domain.status import TimerStatus
from .services import cases, deployment
from .services.demo import seed_organisation
from .services.runtime import Runtime

LIVE_FIXTURES = PROJECT_ROOT / "tests" / "live" / "fixtures"
PROCESS = "live_timer_at"
BENCH = Principal("bench", "Benchmark", is_admin=False, is_system=True)
POSTGRES_URL = os.environ.get("HSM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
POLL_SECONDS = 0.02
SCHEDULER_WARMUP_SECONDS = 3.0
GIVE_UP_SECONDS = 120


@contextmanager
def postgresql_database() -> Iterator[str | None]:
    """A URL for a throwaway schema on the benchmark's PostgreSQL, or None when it is not reachable."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    driver = "postgresql+psycopg://" + POSTGRES_URL.split("://", 1)[1]
    admin = create_engine(driver, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception:  # noqa: BLE001 - no PostgreSQL here: the PostgreSQL figures are left out
        admin.dispose()
        yield None
        return
    separator = "&" if "?" in driver else "?"
    try:
        yield f"{driver}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _environment(url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HSM_")}
    return env | {"HSM_DATABASE_URL": url, "HSM_PROCESSES_DIR": str(LIVE_FIXTURES / "processes"),
                  "HSM_FORMS_DIR": str(LIVE_FIXTURES / "forms"), "HSM_LETTERS_DIR": str(LIVE_FIXTURES / "letters"),
                  "HSM_MAIL_FILE": os.devnull, "HSM_SECRET_KEY": uuid.uuid4().hex}


def _prepared(url: str) -> Runtime:
    """A wall-clock runtime on ``url`` with the one-timer process deployed."""
    settings = Settings.from_env().with_database(url)
    runtime = Runtime(settings)
    runtime.create_schema()
    seed_organisation(runtime)
    diagram = LIVE_FIXTURES / "processes" / f"{PROCESS}.bpmn"
    deployment.deploy(runtime, {diagram.name: diagram.read_bytes()}, by="bench")
    return runtime


@contextmanager
def schedulers(url: str, count: int) -> Iterator[None]:
    """``count`` scheduler processes on ``url``, started and warmed up; killed afterwards."""
    with tempfile.TemporaryDirectory() as logs:
        processes = [subprocess.Popen([sys.executable, "-m", "hsm_workflow", "scheduler"], env=_environment(url),
                                      stdout=(Path(logs) / f"{n}.log").open("w"), stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL) for n in range(count)]
        try:
            time.sleep(SCHEDULER_WARMUP_SECONDS)
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a scheduler exited: {(Path(logs) / '0.log').read_text()[-2000:]}")
            yield
        finally:
            for process in processes:
                process.kill()
                process.wait()


def _lateness_seen(runtime: Runtime, due: dict[int, datetime]) -> list[float]:
    """Poll until every timer in ``due`` is seen fired; each one's lateness in seconds."""
    seen: dict[int, float] = {}
    give_up = time.monotonic() + GIVE_UP_SECONDS
    while len(seen) < len(due):
        if time.monotonic() > give_up:
            raise RuntimeError(f"only {len(seen)} of {len(due)} timers fired in {GIVE_UP_SECONDS} s")
        with runtime.reading() as session:
            fired = session.scalars(select(Timer.id).where(Timer.status == TimerStatus.FIRED)).all()
        now = datetime.now(timezone.utc)
        for timer_id in fired:
            if timer_id not in seen and timer_id in due:
                seen[timer_id] = max(0.0, (now - due[timer_id]).total_seconds())
        time.sleep(POLL_SECONDS)
    return sorted(seen.values())


def _start_cases(runtime: Runtime, moments: list[datetime]) -> dict[int, datetime]:
    """One case per moment, waiting on a timer due then; timer id -> due instant."""
    for moment in moments:
        cases.start_case(runtime, BENCH, PROCESS, {"fire_at": moment.isoformat()})
    with runtime.reading() as session:
        rows = session.execute(select(Timer.id, Timer.due_at).where(Timer.status == TimerStatus.PENDING,
                                                                    Timer.due_at <= max(moments))).all()
    late = [row for row in rows if row.due_at <= datetime.now(timezone.utc)]
    if late or len(rows) != len(moments):
        raise RuntimeError(f"{len(late)} timers were due before their cases were all started; lengthen the lead")
    return {row.id: row.due_at for row in rows}


def _starts_per_second(runtime: Runtime, sample: int = 20) -> float:
    far = datetime.now(timezone.utc) + timedelta(days=365)
    started = time.perf_counter()
    for _ in range(sample):
        cases.start_case(runtime, BENCH, PROCESS, {"fire_at": far.isoformat()})
    return sample / (time.perf_counter() - started)


def _figures(lateness: list[float]) -> dict[str, float]:
    return {"p50_seconds": round(statistics.median(lateness), 3),
            "p95_seconds": round(lateness[int(len(lateness) * 0.95) - 1], 3),
            "worst_seconds": round(lateness[-1], 3)}


def steady_state(url: str, count: int = 40, interval: float = 0.25) -> dict:
    """``count`` timers due one every ``interval`` s, one scheduler: lateness of each."""
    runtime = _prepared(url)
    try:
        with schedulers(url, 1):
            first = datetime.now(timezone.utc) + timedelta(seconds=2 + count / _starts_per_second(runtime))
            due = _start_cases(runtime, [first + timedelta(seconds=interval * n) for n in range(count)])
            lateness = _lateness_seen(runtime, due)
        return {"timers": count, "one_due_every_seconds": interval, "schedulers": 1, **_figures(lateness)}
    finally:
        runtime.dispose()


def burst(url: str, scheduler_count: int, count: int = 1000) -> dict:
    """``count`` timers due at the same instant: how late the last is seen fired."""
    runtime = _prepared(url)
    try:
        with schedulers(url, scheduler_count):
            lead = 2 + 1.3 * count / _starts_per_second(runtime)
            moment = (datetime.now(timezone.utc) + timedelta(seconds=lead)).replace(microsecond=0)
            lateness = _lateness_seen(runtime, _start_cases(runtime, [moment] * count))
        return {"timers": count, "schedulers": scheduler_count,
                "last_fired_seconds_late": round(lateness[-1], 3),
                "median_seconds_late": round(statistics.median(lateness), 3)}
    finally:
        runtime.dispose()


def timer_lateness(sqlite_directory: Path) -> dict:
    """Steady-state and burst lateness on SQLite and, where reachable, PostgreSQL."""
    sqlite_url = f"sqlite:///{sqlite_directory / 'lateness.db'}"
    figures: dict = {"sqlite": {"steady_state": steady_state(sqlite_url)}}
    with postgresql_database() as url:
        if url is None:
            figures["postgresql"] = f"not reachable at {POSTGRES_URL} (set HSM_BENCH_POSTGRES_URL)"
            return figures
        figures["postgresql"] = {"steady_state": steady_state(url)}
    for scheduler_count in (1, 2):
        with postgresql_database() as url:
            figures["postgresql"][f"burst_{scheduler_count}_scheduler{'s' * (scheduler_count > 1)}"] = \
                burst(url, scheduler_count)
    return figures
