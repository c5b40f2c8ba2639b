"""The inbox and the task page: listing, filters, claim and release, the form and submitting it."""
from __future__ import annotations

from datetime import timedelta

from hsm_workflow.domain.status import CaseStatus
from hsm_workflow.services import access, cases

from conftest import TESTER, as_user
from .helpers import STRANGER, post, text


def test_the_inbox_lists_the_roles_task_with_case_procedure_and_due_date(client_for, case, task_id):
    page = text(client_for("master").get("/"))
    assert f'<a href="/tasks/{task_id}">Review the measure</a>' in page
    assert f'<a href="/cases/{case}">{case}</a>' in page
    assert "Review loop" in page and '<time datetime="2026-01-26">Mon 26 Jan 2026</time>' in page
    assert "Overdue" not in page and "Due soon" not in page


def test_a_user_without_the_role_sees_an_empty_inbox(client_for, case):
    page = text(client_for("senior_tutor").get("/"))
    assert "Nothing to do: your inbox is empty." in page


def test_due_soon_and_overdue_are_written_out(client_for, clock, case, task_id):
    clock.advance(timedelta(days=18))  # Fri 23 Jan: due Mon 26 Jan is 1 working day away
    assert '<strong class="tag tag-soon">Due soon</strong>' in text(client_for("master").get("/"))
    clock.advance(timedelta(days=4))  # Tue 27 Jan (a new sign-in: the old session has gone idle)
    client = client_for("master")
    page = text(client.get("/"))
    assert '<strong class="tag tag-overdue">Overdue</strong>' in page and "Due soon" not in page
    assert "Review the measure" in text(client.get("/?overdue=1"))


def test_filters_by_procedure_and_overdue(client_for, case):
    client = client_for("master")
    assert "Review the measure" in text(client.get("/?procedure=review_loop"))
    assert "No tasks match these filters." in text(client.get("/?procedure=other"))
    assert "No tasks match these filters." in text(client.get("/?overdue=1"))


def test_the_inbox_is_sorted_by_due_date(client_for, runtime, clock, case):
    clock.advance(timedelta(days=3))
    later = cases.start_case(runtime, as_user(runtime, "caseworker"), "review_loop", {}).reference
    page = text(client_for("master").get("/"))
    assert page.index(case) < page.index(later)


def test_claim_and_release(client_for, runtime, case, task_id):
    client = client_for("master")
    response = post(client, f"/tasks/{task_id}/claim", {"next": "/"})
    assert response.location == "/"
    assert access.case_file(runtime, TESTER, case).tasks[0].claimed_by == "master"
    page = text(client.get("/"))
    assert "The task is yours" in page and "Release" in page
    response = post(client, f"/tasks/{task_id}/unclaim")
    assert response.location == f"/tasks/{task_id}"
    assert access.case_file(runtime, TESTER, case).tasks[0].claimed_by is None


def test_claim_needs_the_role_and_csrf(client_for, task_id):
    client = client_for("senior_tutor")  # sees the case (oversight) but does not hold the master role
    assert client.post(f"/tasks/{task_id}/claim").status_code == 400
    assert post(client, f"/tasks/{task_id}/claim").status_code == 403


def test_the_task_page_shows_instructions_and_an_accessible_form(client_for, case, task_id):
    page = text(client_for("master").get(f"/tasks/{task_id}"))
    assert "004 §3.7: review before the period ends." in page
    assert f'<form method="post" action="/tasks/{task_id}" novalidate' in page
    assert '<fieldset id="f-decision">' in page
    assert '<legend>Decision <span class="required">(required)</span></legend>' in page
    assert '<label for="f-decision-1">Extend for a further period</label>' in page
    assert 'type="radio" id="f-decision-2" name="decision" value="lift" required' in page
    assert '<label for="f-reasons">Reasons</label>' in page and '<textarea id="f-reasons" name="reasons"' in page


def test_an_invalid_submission_shows_errors_beside_the_fields_and_keeps_the_values(client_for, runtime, case,
                                                                                   task_id):
    client = client_for("master")
    response = post(client, f"/tasks/{task_id}", {"reasons": "kept text"}, token_from=f"/tasks/{task_id}")
    assert response.status_code == 422
    page = text(response)
    assert '<fieldset id="f-decision" aria-describedby="f-decision-error">' in page
    assert '<p class="field-error" id="f-decision-error"><span class="visually-hidden">Error:</span> ' \
           'Missing data for required field.</p>' in page
    assert '<a href="#f-decision">Decision: Missing data for required field.</a>' in page
    assert ">kept text</textarea>" in page
    assert [t.status for t in access.case_file(runtime, TESTER, case).tasks] == ["open"]


def test_a_chosen_option_is_kept_when_another_field_is_wrong(client_for, deployed, task_id):
    response = post(client_for("master"), f"/tasks/{task_id}", {"decision": "lift", "colour": "red"})
    page = text(response)
    assert response.status_code == 422 and "colour: Unknown field." in page
    assert 'value="lift" checked required' in page


def test_a_valid_submission_goes_to_the_next_task_in_the_case(client_for, runtime, case, task_id):
    client = client_for("master")
    response = post(client, f"/tasks/{task_id}", {"decision": "extend", "reasons": "risk remains"})
    [following] = [t for t in access.case_file(runtime, TESTER, case).tasks if t.status == "open"]
    assert response.location == f"/tasks/{following.id}"
    page = text(client.get(response.location))
    assert f"Done: Review the measure ({case})." in page and "Next in this case: Review the measure." in page


def test_the_last_task_of_a_case_goes_back_to_the_inbox(client_for, runtime, case, task_id):
    client = client_for("master")
    response = post(client, f"/tasks/{task_id}", {"decision": "lift"})
    assert response.location == "/"
    assert access.case_file(runtime, TESTER, case).summary.status == "completed"
    page = text(client.get(f"/tasks/{task_id}"))
    assert "What was recorded" in page and "<dt>decision</dt><dd>lift</dd>" in page


def test_a_case_viewer_without_the_role_reads_the_task_but_gets_no_form(client_for, task_id):
    client = client_for("senior_tutor")
    page = text(client.get(f"/tasks/{task_id}"))
    assert "You do not hold the role for this task" in page and "<fieldset" not in page
    assert post(client, f"/tasks/{task_id}", {"decision": "lift"}).status_code == 403


def test_a_suspended_case_offers_no_form(client_for, runtime, case, task_id):
    cases.set_status(runtime, TESTER, case, CaseStatus.SUSPENDED, reason="police")
    client = client_for("master")
    page = text(client.get(f"/tasks/{task_id}"))
    assert "The case is suspended" in page and "<fieldset" not in page
    response = post(client, f"/tasks/{task_id}", {"decision": "lift"})
    assert response.status_code == 409 and "is suspended; only a running case can do this" in text(response)


def test_every_task_route_is_404_for_a_user_with_no_business_there(client_for, app, task_id):
    stranger = client_for(STRANGER)
    assert stranger.get(f"/tasks/{task_id}").status_code == 404
    assert stranger.get("/tasks/999999").status_code == 404
    for path in (f"/tasks/{task_id}", f"/tasks/{task_id}/claim", f"/tasks/{task_id}/unclaim"):
        assert post(stranger, path, {"decision": "lift"}).status_code == 404
