"""`hsm-workflow case start` as a process: bad start data exits 1 with a one-line reason."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hsm_workflow.config import Settings
from hsm_workflow.services.demo import seed_organisation
from hsm_workflow.services.runtime import Runtime
from conftest import ROOT

CLI = Path(sys.executable).with_name("hsm-workflow")


def test_case_start_with_empty_data_exits_1_naming_the_missing_fields(database_url, tmp_path, monkeypatch):
    for name, value in {"HSM_DATABASE_URL": database_url, "HSM_PROCESSES_DIR": ROOT / "processes",
                        "HSM_FORMS_DIR": ROOT / "forms", "HSM_LETTERS_DIR": ROOT / "letters",
                        "HSM_MAIL_FILE": tmp_path / "mail.log"}.items():
        monkeypatch.setenv(name, str(value))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(CLI), *args], env=dict(os.environ), capture_output=True, text=True, timeout=300)

    assert run("init").returncode == 0
    runtime = Runtime(Settings.from_env())
    seed_organisation(runtime)
    runtime.dispose()
    refused = run("case", "start", "college_procedure", "--data", "{}", "--user", "senior_tutor")
    assert refused.returncode == 1 and refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert "start data for college_procedure" in line
    for field in ("complainant", "respondent", "complaint_received_on", "complaint_summary"):
        assert f"{field}: Missing data for required field." in line
    started = run("case", "start", "college_procedure", "--user", "senior_tutor", "--data",
                  '{"complainant": "A", "respondent": "B", "complaint_received_on": "2026-01-05", '
                  '"complaint_summary": "S"}')
    assert started.returncode == 0 and started.stdout.strip().startswith("HSM-")
