"""Every processes/*.bpmn opens cleanly in the modeller.

Runs tools/modeller-check/check.mjs (bpmnlint recommended rules, a real bpmn-js
Viewer in headless Debian chromium, diagram-interchange completeness) once for
all diagrams, then asserts per file. Needs `make node-deps` first (node_modules
of tools/modeller-check and /usr/bin/chromium).

The checker's own tests run it on tools/modeller-check/fixtures/: a good
diagram must pass, a deliberately broken one must be reported, and layout.mjs
must produce complete diagram interchange for a diagram written without it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "modeller-check"
CHECK = TOOL / "check.mjs"
LAYOUT = TOOL / "layout.mjs"
FIXTURES = TOOL / "fixtures"

DIAGRAMS = sorted((ROOT / "processes").glob("*.bpmn"))

KINDS = ("lint", "import", "di")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _node(script: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    if shutil.which("node") is None:
        pytest.fail("node is not installed (Node >= 20 is needed for tools/modeller-check)")
    if not (TOOL / "node_modules").is_dir():
        pytest.fail("tools/modeller-check/node_modules is missing: run `make node-deps`")
    return subprocess.run(
        ["node", str(script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_check(files: list[Path]) -> tuple[int, dict]:
    """check.mjs on all files in one process: (exit status, {file: {lint, import, di}})."""
    proc = _node(CHECK, *(_rel(f) for f in files))
    if proc.returncode not in (0, 1):
        pytest.fail(f"check.mjs failed to run (exit {proc.returncode}):\n{proc.stderr}")
    return proc.returncode, json.loads(proc.stdout)


def _format(problems: dict) -> str:
    lines = []
    for kind in KINDS:
        for p in problems.get(kind, []):
            lines.append(f"  {kind}: {json.dumps(p, ensure_ascii=False)}")
    return "\n".join(lines)


def _once_per_run(tmp_path_factory, name: str, compute: Callable[[Path], dict]) -> dict:
    """compute(workdir) once per pytest run, even under pytest-xdist (`make test`
    uses -n 2): the first worker computes and stores JSON, the others read it."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by all workers of this run
    workdir = root / f"modeller-check-{name}"
    cache = workdir / "result.json"
    with open(root / f"modeller-check-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cache.exists():
            return json.loads(cache.read_text())
        workdir.mkdir(exist_ok=True)
        result = compute(workdir)
        cache.write_text(json.dumps(result))
        return result


# --- the project's diagrams -------------------------------------------------


@pytest.fixture(scope="module")
def diagrams_report(tmp_path_factory) -> dict:
    if not DIAGRAMS:
        return {}
    return _once_per_run(tmp_path_factory, "processes", lambda _: run_check(DIAGRAMS)[1])


# Defined only when there are diagrams: an empty parametrisation would show up
# as a skipped test.
if DIAGRAMS:

    @pytest.mark.parametrize("diagram", DIAGRAMS, ids=lambda p: p.name)
    def test_diagram_opens_cleanly_in_modeller(diagrams_report: dict, diagram: Path) -> None:
        problems = diagrams_report[_rel(diagram)]
        assert not any(problems[k] for k in KINDS), (
            f"{_rel(diagram)} is not clean (bpmnlint recommended / bpmn-js import / DI):\n"
            + _format(problems)
        )


# --- the checker itself ----------------------------------------------------


def _run_fixtures(out: Path) -> dict:
    """layout.mjs on the DI-less fixtures, then one check.mjs run over everything."""
    layout = {}
    for name in ("no-di", "no-di-limits"):
        target = out / f"{name}.laid-out.bpmn"
        proc = _node(LAYOUT, _rel(FIXTURES / f"{name}.bpmn"), str(target))
        assert proc.returncode in (0, 1), f"layout.mjs crashed on {name}.bpmn:\n{proc.stderr}"
        layout[name] = {"status": proc.returncode, "stderr": proc.stderr, "output": str(target)}

    files = [FIXTURES / "good.bpmn", FIXTURES / "broken.bpmn", *(Path(r["output"]) for r in layout.values())]
    status, report = run_check(files)
    return {"status": status, "report": report, "layout": layout}


@pytest.fixture(scope="module")
def fixtures_run(tmp_path_factory) -> dict:
    return _once_per_run(tmp_path_factory, "fixtures", _run_fixtures)


def _problems(run: dict, path: Path | str) -> dict:
    return run["report"][_rel(Path(path))]


def test_good_fixture_is_clean(fixtures_run: dict) -> None:
    problems = _problems(fixtures_run, FIXTURES / "good.bpmn")
    assert not any(problems[k] for k in KINDS), _format(problems)


def test_broken_fixture_is_reported(fixtures_run: dict) -> None:
    assert fixtures_run["status"] == 1, "check.mjs must exit 1 when a file has problems"
    problems = _problems(fixtures_run, FIXTURES / "broken.bpmn")
    detail = _format(problems)

    # Flow_review_end has no BPMNEdge
    assert any(p["id"] == "Flow_review_end" for p in problems["di"]), detail
    assert any(p["rule"] == "no-bpmndi" and p["id"] == "Flow_review_end" for p in problems["lint"]), detail
    # a gateway branch without a condition
    assert any(p["rule"] == "conditional-flows" and p["id"] == "Flow_no_action" for p in problems["lint"]), detail
    # a BPMNShape pointing at an element that does not exist: bpmn-js warns on import
    assert any("Ghost_task" in p["message"] for p in problems["import"]), detail
    assert any(p["id"] == "Ghost_task_di" for p in problems["di"]), detail


def test_layout_draws_gateway_boundary_timer_and_call_activity(fixtures_run: dict) -> None:
    layout = fixtures_run["layout"]["no-di"]
    assert layout["status"] == 0, layout["stderr"]
    problems = _problems(fixtures_run, layout["output"])
    assert not any(problems[k] for k in KINDS), _format(problems)

    xml = Path(layout["output"]).read_text()
    for element in ("Gateway_outcome", "Timer_overdue", "Call_review", "Flow_to_escalate"):
        assert f'bpmnElement="{element}"' in xml, f"layout.mjs drew no DI for {element}"


def test_layout_reports_what_it_cannot_draw(fixtures_run: dict) -> None:
    layout = fixtures_run["layout"]["no-di-limits"]
    assert layout["status"] == 1, "layout.mjs must exit 1 when DI is still incomplete"
    for element in ("Lane_caseworker", "Lane_investigator", "Note_register", "Assoc_register", "DataOut_record"):
        assert element in layout["stderr"], layout["stderr"]
    # and check.mjs agrees
    missing = {p["id"] for p in _problems(fixtures_run, layout["output"])["di"]}
    assert {"Lane_caseworker", "Note_register", "Assoc_register"} <= missing
