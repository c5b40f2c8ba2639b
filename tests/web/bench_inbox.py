"""Inbox response time with many cases: bulk-inserts cases with one open task each (rows
only, not through the engine) and times GET / for a role holder with the Flask test client.

    python tests/web/bench_inbox.py [--cases 10000] [--requests 100] [--database-url URL]

Without --database-url it uses a fresh SQLite file. Prints p50/p95 in milliseconds.
"""
from __future__ import annotations

import argparse
import re
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select

from hsm_workflow.clock import VirtualClock
from hsm_workflow.config import Settings
from hsm_workflow.db.models import Case, CaseEvent, ProcessVersion, Task, Timer, Unit
from hsm_workflow.services import deployment
from hsm_workflow.services.demo import seed_organisation
from hsm_workflow.services.runtime import Runtime
from hsm_workflow.web import create_app

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
BATCH = 2000


def bench_runtime(database_url: str, workdir: Path) -> Runtime:
    """A runtime on an empty database with the demo organisation and the review loop deployed."""
    settings = replace(Settings.from_env(), database_url=database_url, forms_dir=FIXTURES / "forms",
                       letters_dir=FIXTURES / "letters", mail_file=workdir / "mail.log")
    runtime = Runtime(settings, VirtualClock(NOW))
    runtime.create_schema()
    seed_organisation(runtime)
    deployment.deploy(runtime, {"review_loop.bpmn": (HERE / "fixtures" / "review_loop.bpmn").read_bytes()},
                      by="bench")
    return runtime


def seed_cases(runtime: Runtime, count: int, unit: str = "downing") -> None:
    """``count`` running review-loop cases, each with an open master task, a timer and two events;
    due dates spread over the weeks around now, so some are overdue."""
    with runtime.transaction() as session:
        version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == "review_loop"))
        unit_id = session.scalar(select(Unit.id).where(Unit.code == unit))
        first = (session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 0) + 1
        for start in range(0, count, BATCH):
            ids = range(first + start, first + min(start + BATCH, count))
            session.execute(insert(Case), [dict(
                id=i, reference=f"HSM-2026-{i:05d}", process_version_id=version.id, process_id="review_loop",
                unit_id=unit_id, status="running", title=f"Student {i} / Staff {i}", started_by="bench",
                started_at=NOW - timedelta(days=i % 40), engine_state="", lock_version=1) for i in ids])
            session.execute(insert(Task), [dict(
                case_id=i, unit_id=unit_id, engine_task_id=f"t{i}", element_id="Review", name="Review the measure",
                role="master", form_id="review_decision", instructions="", status="open",
                opened_at=NOW - timedelta(days=i % 40), due_on=(NOW + timedelta(days=i % 60 - 20)).date(),
                due_at=NOW + timedelta(days=i % 60 - 19), escalate_to="") for i in ids])
            session.execute(insert(Timer), [dict(
                case_id=i, engine_task_id=f"b{i}", element_id="PeriodEnds", name="Period ends",
                due_at=NOW + timedelta(days=i % 60 - 19), status="pending") for i in ids])
            session.execute(insert(CaseEvent), [dict(
                case_id=i, at=NOW, actor="bench", kind=kind, summary=kind, data=None)
                for i in ids for kind in ("started", "step")])


def time_inbox(runtime: Runtime, username: str, requests: int, path: str = "/") -> list[float]:
    """Milliseconds per GET of ``path`` for the signed-in user (after one warm-up request)."""
    client = create_app(runtime).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": username, "password": "demo", "csrf_token": token})
    assert client.get(path).status_code == 200
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a new SQLite file)")
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="hsm-bench-"))
    runtime = bench_runtime(options.database_url or f"sqlite:///{workdir / 'bench.db'}", workdir)
    started = time.perf_counter()
    seed_cases(runtime, options.cases)
    print(f"seeded {options.cases} cases in {time.perf_counter() - started:.1f}s "
          f"on {runtime.database.dialect.name}")
    for label, username, path in (("inbox, role holder (master)", "master", "/"),
                                  ("inbox filtered to overdue", "master", "/?overdue=1"),
                                  ("inbox, user with nothing to do", "dean", "/"),
                                  ("admin console, first page", "admin", "/admin")):
        timings = time_inbox(runtime, username, options.requests, path)
        print(f"GET {path:12} {label:32} p50 {percentile(timings, .5):6.1f} ms   "
              f"p95 {percentile(timings, .95):6.1f} ms   ({options.requests} requests)")
    runtime.dispose()


if __name__ == "__main__":
    main()
