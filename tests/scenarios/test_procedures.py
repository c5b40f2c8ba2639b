"""Every scenario in tests/scenarios/ runs against the real diagrams in processes/."""
from __future__ import annotations

from pathlib import Path

import pytest

from hsm_workflow.scenarios import Workspace, run_file
from conftest import make_settings

HERE = Path(__file__).parent
SCENARIOS = sorted(HERE.rglob("*.yaml"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    workspace = Workspace(make_settings("sqlite://", tmp_path_factory.mktemp("s"), fixtures=False))
    yield workspace
    workspace.close()


@pytest.mark.parametrize("path", SCENARIOS, ids=[str(p.relative_to(HERE)) for p in SCENARIOS])
def test_scenario(path, workspace):
    outcome = run_file(path, workspace)
    assert outcome.passed, outcome.detail
