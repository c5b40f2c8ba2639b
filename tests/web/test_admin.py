"""The admin console: finding cases and acting on them with a reason that is logged."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hsm_workflow.db.models import Case
from hsm_workflow.errors import StepFailed
from hsm_workflow.domain.status import CaseStatus
from hsm_workflow.services import access, cases
from hsm_workflow.services.cases import CaseWork

from conftest import TESTER, as_user
from .helpers import STRANGER, post, text


@pytest.fixture
def admin(client_for):
    return client_for("admin")


def events(runtime, reference) -> list[str]:
    return [e.summary for e in access.case_file(runtime, TESTER, reference).events]


def put_in_error(runtime, reference: str) -> None:
    with runtime.transaction() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        case.status, case.error = "error", "Timer step failed: boom"


def test_the_console_lists_cases_with_filters(client_for, runtime, clock, case):
    clock.advance(timedelta(days=1))
    other = cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {}).reference
    cases.set_status(runtime, TESTER, other, CaseStatus.SUSPENDED, reason="police")
    admin = client_for("admin")  # signed in after the day went by (a session idle that long has ended)
    page = text(admin.get("/admin"))
    assert "2 cases" in page and case in page and other in page
    suspended = text(admin.get("/admin?status=suspended"))
    assert other in suspended and case not in suspended
    assert "0 cases" in text(admin.get("/admin?status=error"))
    assert "2 cases" in text(admin.get("/admin?waiting=1&procedure=review_loop"))
    assert "0 cases" in text(admin.get("/admin?overdue=1"))
    clock.advance(timedelta(days=22))
    assert "2 cases" in text(client_for("admin").get("/admin?overdue=1"))


def test_the_console_pages_through_many_cases(admin, runtime, case):
    for _ in range(3):
        cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {})
    from hsm_workflow.services import admin as service
    assert service.list_cases(runtime, as_user(runtime, "admin"), per_page=2, page=2).rows[0].reference == "HSM-2026-0002"
    assert "4 cases" in text(admin.get("/admin"))


def test_a_case_page_shows_timers_tasks_and_actions(admin, case):
    page = text(admin.get(f"/admin/cases/{case}"))
    assert "Period ends: <time" in page and "Review the measure" in page
    assert '<option value="master">Master (master)</option>' in page
    assert "This case waits for: no message anyone may deliver" in page


def test_suspend_and_resume_with_a_reason_are_logged(admin, runtime, case):
    response = post(admin, f"/admin/cases/{case}/status", {"action": "suspend", "reason": "police investigation"})
    assert response.location == f"/admin/cases/{case}"
    assert access.case_file(runtime, TESTER, case).summary.status == "suspended"
    assert f"{case} suspended." in text(admin.get(response.location))
    post(admin, f"/admin/cases/{case}/status", {"action": "resume", "reason": "police done"})
    assert access.case_file(runtime, TESTER, case).summary.status == "running"
    assert events(runtime, case)[-2:] == ["Case suspended: police investigation", "Case resumed: police done"]


def test_an_action_without_a_reason_is_refused_beside_the_field(admin, runtime, case):
    response = post(admin, f"/admin/cases/{case}/status", {"action": "terminate", "reason": "  "})
    assert response.status_code == 422
    page = text(response)
    assert 'id="status-reason-error"' in page and "Give a reason" in page
    assert 'id="action-terminate" name="action" value="terminate" required checked' in page
    assert access.case_file(runtime, TESTER, case).summary.status == "running"


def test_terminate(admin, runtime, case):
    post(admin, f"/admin/cases/{case}/status", {"action": "terminate", "reason": "opened in error"})
    assert access.case_file(runtime, TESTER, case).summary.status == "terminated"
    assert "Case terminated: opened in error" in events(runtime, case)


def test_a_status_change_the_case_cannot_make_is_explained(admin, runtime, case):
    response = post(admin, f"/admin/cases/{case}/status", {"action": "resume", "reason": "x"})
    assert "Nothing was changed:" in text(admin.get(response.location))


def test_retry_puts_a_failed_case_back_to_running(admin, runtime, case):
    put_in_error(runtime, case)
    page = text(admin.get(f"/admin/cases/{case}"))
    assert "Failed step:</strong> Timer step failed: boom" in page and "Retry the failed step" in page
    assert "1 case" in text(admin.get("/admin?status=error"))
    post(admin, f"/admin/cases/{case}/retry", {"reason": "fixed the letter template"})
    assert access.case_file(runtime, TESTER, case).summary.status == "running"
    assert "Failed step retried: fixed the letter template" in events(runtime, case)


def test_a_retry_that_fails_again_changes_nothing(admin, runtime, case, monkeypatch):
    put_in_error(runtime, case)

    def fail(self, case, by="scheduler"):
        raise StepFailed(f"{case.reference}: still broken")
    monkeypatch.setattr(CaseWork, "fire_timers", fail)
    response = post(admin, f"/admin/cases/{case}/retry", {"reason": "try again"})
    assert "Nothing was changed: HSM-2026-0001: still broken" in text(admin.get(response.location))
    assert access.case_file(runtime, TESTER, case).summary.status == "error"
    assert "Failed step retried: try again" not in events(runtime, case)


def test_reassign_gives_the_task_to_another_role_holder(admin, runtime, case, task_id):
    from hsm_workflow.services.directory import add_user, assign_role
    add_user(runtime, "deputy_master", "Deputy Master")
    assign_role(runtime, "deputy_master", "master", "downing")
    response = post(admin, f"/admin/cases/{case}/tasks/{task_id}/reassign",
                    {"to": "deputy_master", "reason": "master on leave"})
    assert response.location == f"/admin/cases/{case}"
    assert access.case_file(runtime, TESTER, case).tasks[0].claimed_by == "deputy_master"
    assert "Task Review the measure given to deputy_master: master on leave" in events(runtime, case)


def test_reassign_refuses_someone_without_the_role(admin, runtime, case, task_id):
    response = post(admin, f"/admin/cases/{case}/tasks/{task_id}/reassign", {"to": "dean", "reason": "x"})
    assert response.status_code == 422
    assert f'id="reassign-{task_id}-to-error"' in text(response)
    assert access.case_file(runtime, TESTER, case).tasks[0].claimed_by is None
    assert post(admin, f"/admin/cases/HSM-2026-9999/tasks/{task_id}/reassign",
                {"to": "master", "reason": "x"}).status_code == 404


def test_deliver_a_message_with_a_reason(admin, runtime, case):
    response = post(admin, f"/admin/cases/{case}/message", {"name": "not_waited_for", "payload": "{}",
                                                            "reason": "email from the student"})
    assert "Nothing was changed:" in text(admin.get(response.location))
    response = post(admin, f"/admin/cases/{case}/message", {"name": "x", "payload": "[1]", "reason": "r"})
    assert response.status_code == 422 and "Give a JSON object" in text(response)
    response = post(admin, f"/admin/cases/{case}/message", {"name": "", "payload": "", "reason": "r"})
    assert response.status_code == 422 and "Give the message name." in text(response)


def test_a_message_the_case_does_not_wait_for_is_refused_with_the_reason(admin, runtime, case):
    response = post(admin, f"/admin/cases/{case}/message", {"name": "police_report_made", "payload": "{}",
                                                            "reason": "phone call from the police"})
    assert "Nothing was changed" in text(admin.get(response.location))
    assert not any("police_report_made" in e for e in events(runtime, case))


def test_the_console_is_for_administrators_only(client_for, case, task_id):
    for username in ("master", STRANGER):
        client = client_for(username)
        assert client.get("/admin").status_code == 403
        assert client.get(f"/admin/cases/{case}").status_code == (404 if username == STRANGER else 403)
        for path in (f"/admin/cases/{case}/status", f"/admin/cases/{case}/retry", f"/admin/cases/{case}/message",
                     f"/admin/cases/{case}/tasks/{task_id}/reassign"):
            expected = 404 if username == STRANGER else 403  # the master oversees the case, may not act on it
            assert post(client, path, {"action": "suspend", "reason": "x"}).status_code == expected, path
    assert "Admin console" not in text(client_for("master").get("/"))


def test_admin_actions_need_the_csrf_token(admin, case):
    assert admin.post(f"/admin/cases/{case}/status", data={"action": "suspend", "reason": "x"}).status_code == 400
    assert admin.get("/admin/cases/HSM-2026-9999").status_code == 404
