"""`make bench`: speed and size figures, printed as JSON (numbers, not adjectives).

Runs on a throwaway SQLite database unless HSM_BENCH_DATABASE_URL names another
(e.g. PostgreSQL); uses the fixture review-loop diagram so the figures compare like
with like over time. Timer lateness (bench_timers) runs scheduler processes on the wall
clock, on SQLite and on the PostgreSQL of HSM_BENCH_POSTGRES_URL.
"""
from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select

from .bench_timers import timer_lateness
from .clock import VirtualClock
from .config import PROJECT_ROOT, Settings
from .db.models import Case, Task
from .domain.principals import Principal
from .services import access, cases, deployment, tasks
from .services.demo import seed_organisation
from .services.directory import user_named
from .services.runtime import Runtime

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
DIAGRAM = FIXTURES / "processes" / "review_loop.bpmn"
START = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
BENCH = Principal("bench", "Benchmark", is_admin=False, is_system=True)
WINDOW = 10  # each figure is the median of this many passes, ending at the pass named
PAIRED = range(2, 52)  # passes compared with the bare engine (the first warms caches)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _runtime(directory: Path, name: str) -> Runtime:
    url = os.environ.get("HSM_BENCH_DATABASE_URL") or f"sqlite:///{directory / name}.db"
    settings = replace(Settings.from_env(), database_url=url, processes_dir=FIXTURES / "processes",
                       forms_dir=FIXTURES / "forms", letters_dir=FIXTURES / "letters")
    runtime = Runtime(settings, VirtualClock(START))
    runtime.create_schema()
    seed_organisation(runtime)
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="bench")
    return runtime


def bare_engine_step_ms(passes: int = PAIRED.stop - 1) -> float:
    """Deserialize, complete the review task, run engine steps, serialize: the library alone."""
    parser = CamundaParser()  # the library's own Camunda serializer has no service tasks: plain task
    xml = DIAGRAM.read_bytes().replace(b"bpmn:serviceTask", b"bpmn:task")
    parser.add_bpmn_xml(etree.fromstring(xml), str(DIAGRAM))
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    workflow = BpmnWorkflow(parser.get_spec("review_loop"))
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)
    timings = []
    for _ in range(passes):
        started = time.perf_counter()
        workflow = serializer.deserialize_json(state)
        [task] = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "Review"]
        task.set_data(decision="extend")
        task.run()
        workflow.do_engine_steps()
        state = serializer.serialize_json(workflow)
        timings.append(time.perf_counter() - started)
    return _ms(statistics.median(timings))


def review_loop(runtime: Runtime, passes: int = 500, marks=(10, 100, 500)) -> tuple[dict, float]:
    reference = cases.start_case(runtime, BENCH, "review_loop", {"student": "A"}).reference
    figures, timings = {}, []
    master = access.principal(runtime, "master")
    for n in range(1, passes + 1):
        [task] = tasks.list_tasks(runtime, master)
        started = time.perf_counter()
        tasks.complete(runtime, master, task.id, {"decision": "extend", "reasons": "still needed"})
        timings.append(time.perf_counter() - started)
        if n in marks:
            with runtime.reading() as session:
                size = len(session.scalar(select(Case.engine_state).where(Case.reference == reference)))
            figures[f"pass_{n}"] = {"step_ms": _ms(statistics.median(timings[-WINDOW:])), "state_bytes": size}
    return figures, _ms(statistics.median(timings[PAIRED.start - 1:PAIRED.stop - 1]))


def _bulk_cases(runtime: Runtime, count: int) -> None:
    """Cases and open tasks inserted as rows (the query under test never loads a workflow)."""
    with runtime.transaction() as session:
        template = session.scalar(select(Case).limit(1))
        roles = ["master", "senior_tutor", "caseworker", "investigator", "proctor"]
        case_rows = [dict(reference=f"BENCH-{i:06d}", process_version_id=template.process_version_id,
                          process_id="review_loop", unit_id=template.unit_id, status="running", title="",
                          started_by="bench", started_at=START, engine_state="{}", lock_version=1)
                     for i in range(count)]
        session.execute(insert(Case), case_rows)
        ids = session.scalars(select(Case.id).where(Case.reference.like("BENCH-%"))).all()
        session.execute(insert(Task), [dict(
            case_id=case_id, unit_id=template.unit_id, engine_task_id=f"bench-{case_id}", element_id="Review",
            name="Review the measure", role=roles[i % len(roles)], form_id="review_decision", instructions="",
            status="open", opened_at=START, due_at=START + timedelta(days=i % 60), escalate_to="")
            for i, case_id in enumerate(ids)])


def role_query_ms(runtime: Runtime, count: int = 10_000, runs: int = 200) -> dict:
    _bulk_cases(runtime, count)
    timings = []
    with runtime.reading() as session:
        user = user_named(session, "master")
        for _ in range(runs):
            started = time.perf_counter()
            rows = session.execute(tasks.inbox_query(session, user).limit(50)).all()
            timings.append(time.perf_counter() - started)
    timings.sort()
    return {"cases": count, "rows_returned": len(rows), "p50_ms": _ms(timings[len(timings) // 2]),
            "p95_ms": _ms(timings[int(len(timings) * 0.95)])}


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        where = Path(directory)
        loop_runtime = _runtime(where, "loop")
        loop, service_ms = review_loop(loop_runtime)
        bare_ms = bare_engine_step_ms()
        query_runtime = _runtime(where, "query")
        cases.start_case(query_runtime, BENCH, "review_loop", {})
        query = role_query_ms(query_runtime)
        lateness = timer_lateness(where)
        print(json.dumps({
            "database": loop_runtime.database.dialect.name,
            "task_completion": {"service_layer_ms": service_ms, "bare_engine_ms": bare_ms,
                                "ratio": round(service_ms / bare_ms, 2)},
            "open_tasks_for_role_query": query,
            "review_loop": loop,
            "timer_lateness": lateness,
        }, indent=2))


if __name__ == "__main__":
    main()
