"""The case file, its letters and diagram, and who may see them (need-to-know)."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest

from hsm_workflow.services import access, cases, deployment, tasks

from conftest import TESTER, as_user
from .helpers import HERE, STRANGER, text


def diagram_data(page: str) -> tuple[list[str], list[str]]:
    done = re.search(r'data-done="([^"]*)"', page).group(1)
    current = re.search(r'data-current="([^"]*)"', page).group(1)
    return json.loads(unescape(done)), json.loads(unescape(current))


def test_the_case_file_shows_parties_status_tasks_timers_and_timeline(client_for, runtime, case, task_id):
    tasks.claim(runtime, as_user(runtime, "master"), task_id)
    page = text(client_for("master").get(f"/cases/{case}"))
    assert f"<h1>Case {case}</h1>" in page
    assert "<dd>Review loop (version 1)</dd>" in page and "<dd>Alex Student / Sam Staff</dd>" in page
    assert "<dd><strong>running</strong></dd>" in page
    assert f'<td><a href="/tasks/{task_id}">Review the measure</a></td>' in page
    assert "<td>Master</td>" in page  # who holds the task
    assert '<time datetime="2026-01-26">Mon 26 Jan 2026</time>' in page
    assert "<li>Period ends: <time" in page  # the pending timer
    assert "Case started: Review loop v1" in page and "Task claimed: Review the measure" in page


def test_the_diagram_marks_steps_done_and_waiting(client_for, runtime, case, task_id):
    client = client_for("master")
    page = text(client.get(f"/cases/{case}"))
    assert diagram_data(page) == (["MeasureImposed"], ["PeriodEnds", "Review"])
    assert f'data-url="/cases/{case}/diagram.bpmn"' in page
    assert "/static/vendor/bpmn-navigated-viewer.production.min.js" in page
    diagram = client.get(f"/cases/{case}/diagram.bpmn")
    assert diagram.mimetype == "application/xml" and b'<bpmn:process id="review_loop"' in diagram.data
    tasks.complete(runtime, as_user(runtime, "master"), task_id, {"decision": "lift"})
    done, current = diagram_data(text(client.get(f"/cases/{case}")))
    assert set(done) >= {"MeasureImposed", "Review", "Decision", "Letter", "MeasureLifted"} and current == []


def test_letters_are_listed_and_readable(client_for, runtime, case, task_id):
    tasks.complete(runtime, as_user(runtime, "master"), task_id, {"decision": "lift", "reasons": "risk gone"})
    client = client_for("master")
    [letter] = access.case_file(runtime, TESTER, case).letters
    page = text(client.get(f"/cases/{case}"))
    assert f'<a href="/cases/{case}/letters/{letter.id}">{letter.title}</a>' in page
    page = text(client.get(f"/cases/{case}/letters/{letter.id}"))
    assert f"<h1>{letter.title}</h1>" in page and "Reasons: risk gone" in page
    assert client.get(f"/cases/{case}/letters/999").status_code == 404


@pytest.fixture
def parent_case(deployed):
    deployment.deploy(deployed, {"with_measure.bpmn": (HERE / "fixtures" / "with_measure.bpmn").read_bytes()},
                      by="tester")
    return cases.start_case(deployed, as_user(deployed, "caseworker"), "with_measure", {"complainant": "Cam"}).reference


def test_linked_cases_are_listed_with_their_next_due_date(client_for, runtime, parent_case):
    [child] = access.case_file(runtime, TESTER, parent_case).linked
    page = text(client_for("senior_tutor").get(f"/cases/{parent_case}"))
    assert f'<td><a href="/cases/{child.reference}">{child.reference}</a></td><td>Review loop</td>' \
           f'<td>running</td><td><time datetime="2026-01-26">' in page
    child_page = text(client_for("senior_tutor").get(f"/cases/{child.reference}"))
    assert f'<a href="/cases/{parent_case}">{parent_case}</a>' in child_page


def test_a_linked_case_the_user_may_not_see_is_left_out(client_for, runtime, parent_case):
    [child] = access.case_file(runtime, TESTER, parent_case).linked
    caseworker = client_for("caseworker")  # holds the complaint's task, not the measure's
    page = text(caseworker.get(f"/cases/{parent_case}"))
    linked = page[page.index('id="linked-title"'):page.index('id="letters-title"')]
    assert "Decide the complaint" in page and child.reference not in linked and "<p>None.</p>" in linked
    assert caseworker.get(f"/cases/{child.reference}").status_code == 404


def test_every_case_route_is_404_for_a_user_with_no_business_there(client_for, runtime, case, task_id):
    tasks.complete(runtime, as_user(runtime, "master"), task_id, {"decision": "lift"})
    [letter] = access.case_file(runtime, TESTER, case).letters
    stranger = client_for(STRANGER)
    for path in (f"/cases/{case}", f"/cases/{case}/letters/{letter.id}", f"/cases/{case}/diagram.bpmn",
                 "/cases/HSM-2026-9999"):
        response = stranger.get(path)
        assert response.status_code == 404, path
        assert case not in text(response) and "Sam Staff" not in text(response)


def test_a_role_holder_who_acted_keeps_seeing_the_case(client_for, runtime, case, task_id):
    tasks.complete(runtime, as_user(runtime, "master"), task_id, {"decision": "lift"})
    assert client_for("master").get(f"/cases/{case}").status_code == 200


def test_oversight_above_the_unit_sees_the_case_and_plain_roles_do_not(client_for, case):
    assert client_for("proctor").get(f"/cases/{case}").status_code == 200  # oversight in the University
    assert client_for("caseworker").get(f"/cases/{case}").status_code == 200  # the one who opened it
    assert client_for("investigator").get(f"/cases/{case}").status_code == 404  # a plain role, no task
    assert client_for("admin").get(f"/cases/{case}").status_code == 200
