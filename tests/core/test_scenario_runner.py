"""The scenario runner passes a faithful scenario and names the step that differs."""
from __future__ import annotations


import pytest

from hsm_workflow.scenarios import Workspace, run_file
from conftest import FIXTURES, make_settings

SCENARIO = FIXTURES / "scenarios" / "review_loop.yaml"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    settings = make_settings("sqlite://", tmp_path_factory.mktemp("s"), fixtures=True)
    workspace = Workspace(settings)
    yield workspace
    workspace.close()


def test_a_faithful_scenario_passes(workspace):
    outcome = run_file(SCENARIO, workspace)
    assert outcome.passed, outcome.detail


def test_a_differing_expectation_names_the_step_and_the_difference(workspace, tmp_path):
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(SCENARIO.read_text().replace("due: {Review: 2026-01-26}", "due: {Review: 2026-01-27}"))
    outcome = run_file(wrong, workspace)
    assert not outcome.passed
    assert outcome.detail == ("step 3 (due: {'Review': datetime.date(2026, 1, 27)}): "
                              "due date of Review: expected '2026-01-27', got '2026-01-26'")
