"""The command line: exit 0 on success, 1 with a one-line reason otherwise."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hsm_workflow.cli import main
from conftest import FIXTURES


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch):
    for name, value in {"HSM_DATABASE_URL": database_url, "HSM_PROCESSES_DIR": FIXTURES / "processes",
                        "HSM_FORMS_DIR": FIXTURES / "forms", "HSM_LETTERS_DIR": FIXTURES / "letters",
                        "HSM_MAIL_FILE": tmp_path / "mail.log"}.items():
        monkeypatch.setenv(name, str(value))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    assert run("init").exit_code == 0
    from hsm_workflow.config import Settings
    from hsm_workflow.services.demo import seed_organisation
    from hsm_workflow.services.runtime import Runtime
    runtime = Runtime(Settings.from_env())
    seed_organisation(runtime)
    runtime.dispose()
    return run


def test_a_case_runs_from_the_command_line(cli):
    started = cli("case", "start", "review_loop", "--data", '{"student": "A"}', "--user", "caseworker")
    assert started.exit_code == 0 and started.output.strip() == "HSM-2026-0001"
    listing = cli("task", "list", "--user", "master")
    task_id = listing.output.split("\t")[0]
    assert "Review the measure" in listing.output
    done = cli("task", "complete", task_id, "--user", "master", "--data", '{"decision": "lift"}')
    assert done.exit_code == 0, done.output
    shown = json.loads(cli("case", "show", "HSM-2026-0001", "--system").output)
    assert shown["summary"]["status"] == "completed" and shown["letters"][0]["template"] == "test_lifted"


def test_refusals_exit_1_with_one_line(cli):
    cli("case", "start", "review_loop", "--data", "{}", "--system")
    task_id = cli("task", "list", "--system").output.split("\t")[0]
    for args, reason in [
        (("task", "complete", task_id, "--user", "caseworker", "--data", '{"decision": "lift"}'),
         "error: no task "),  # need-to-know: not even seen
        (("task", "complete", task_id, "--user", "master", "--data", '{"decision": "maybe"}'),
         "error: Invalid data for form"),
        (("case", "message", "HSM-2026-0001", "nobody_waits", "--data", "{}", "--system"),
         "error: HSM-2026-0001 does not wait for the message 'nobody_waits' now"),
        (("case", "show", "HSM-2099-0001", "--system"), "error: no case 'HSM-2099-0001'"),
        (("case", "start", "nowhere", "--system"), "error: no deployed process 'nowhere'"),
        (("case", "start", "review_loop", "--user", "nobody"), "error: no active user 'nobody'"),
        (("task", "claim", task_id, "--system"), "error: a human task is claimed and completed by a person"),
    ]:
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(reason) and result.stderr.count("\n") == 1, result.stderr


def test_validate_reports_each_problem_and_exits_1(cli, tmp_path):
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes((FIXTURES / "processes" / "review_loop.bpmn").read_bytes()
                       .replace(b'candidateGroups="master"', b'candidateGroups="wizard"'))
    result = cli("validate", broken)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "broken.bpmn: Review: unknown role 'wizard'"
    good = cli("validate", FIXTURES / "processes")
    assert good.exit_code == 0 and good.output.startswith("ok: 2 processes valid (deadline_probe, review_loop)")


def test_deploying_twice_reports_unchanged(cli):
    result = cli("deploy", "--system")
    assert result.exit_code == 0 and result.output.split() == ["deadline_probe", "v1", "unchanged", "review_loop", "v1", "unchanged"]
