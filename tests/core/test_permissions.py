"""Who may do what is decided in the service layer: message owners, claims, administrators' actions."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hsm_workflow.db.models import CaseEvent
from hsm_workflow.domain.status import CaseStatus
from hsm_workflow.errors import Conflict, Forbidden, InvalidData, NotFound
from hsm_workflow.services import access, cases, deployment, tasks
from conftest import FIXTURES, TESTER, as_user


@pytest.fixture
def waiting_for_police(runtime):
    """A deadline-probe case at the point where it waits for police_report_made
    (deliveredBy: senior_tutor, caseworker), then police_proceedings_concluded (senior_tutor)."""
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    reference = cases.start_case(runtime, as_user(runtime, "caseworker"), "deadline_probe",
                                 {"received_on": "2026-01-05"}).reference  # who opens a case sees it
    for element, data in (("Consider", {"imposed_on": "2026-01-05"}), ("MonthlyReview", {})):
        [task] = [t for t in access.case_file(runtime, TESTER, reference).tasks
                  if t.element == element and t.status == "open"]
        tasks.complete(runtime, as_user(runtime, "senior_tutor"), task.id, data)
    return reference


def events(runtime, reference, kind):
    with runtime.reading() as session:
        return session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.kind == kind))


def test_a_holder_of_a_named_role_delivers_the_message(runtime, waiting_for_police):
    cases.deliver_message(runtime, as_user(runtime, "caseworker"), waiting_for_police, "police_report_made", {})
    summaries = [e.summary for e in access.case_file(runtime, TESTER, waiting_for_police).events]
    assert "Message received: police_report_made" in summaries


def test_a_role_the_diagram_does_not_name_is_refused_saying_who_may(runtime, waiting_for_police):
    cases.deliver_message(runtime, as_user(runtime, "caseworker"), waiting_for_police, "police_report_made", {})
    with pytest.raises(Forbidden, match="may be delivered only by: senior_tutor"):
        cases.deliver_message(runtime, as_user(runtime, "caseworker"), waiting_for_police,
                              "police_proceedings_concluded", {})


def test_someone_who_cannot_see_the_case_is_told_it_does_not_exist(runtime, waiting_for_police):
    with pytest.raises(NotFound):
        cases.deliver_message(runtime, as_user(runtime, "investigator"), waiting_for_police, "police_report_made", {})


def test_an_administrator_delivers_on_the_senders_behalf_only_with_a_reason(runtime, waiting_for_police):
    admin = as_user(runtime, "admin")
    with pytest.raises(InvalidData):
        cases.deliver_message(runtime, admin, waiting_for_police, "police_report_made", {})
    cases.deliver_message(runtime, admin, waiting_for_police, "police_report_made", {}, reason="letter from the police")
    summaries = [e.summary for e in access.case_file(runtime, TESTER, waiting_for_police).events]
    assert "Message police_report_made delivered on behalf of its senders: letter from the police" in summaries


def test_a_runtime_only_message_is_refused_to_everyone(runtime, waiting_for_police, tmp_path):
    source = (FIXTURES / "processes" / "deadline_probe.bpmn").read_text()
    without_owners = re.sub(r'<camunda:property name="deliveredBy" value="[^"]*" />', "", source)
    deployment.deploy(runtime, {"deadline_probe.bpmn": without_owners.encode()}, by="tester")
    reference = cases.start_case(runtime, TESTER, "deadline_probe", {"received_on": "2026-01-05"}).reference
    for element, data in (("Consider", {"imposed_on": "2026-01-05"}), ("MonthlyReview", {})):
        [task] = [t for t in access.case_file(runtime, TESTER, reference).tasks
                  if t.element == element and t.status == "open"]
        tasks.complete(runtime, as_user(runtime, "senior_tutor"), task.id, data)
    for actor in (as_user(runtime, "admin"), TESTER):
        with pytest.raises(Forbidden, match="sent by the system itself"):
            cases.deliver_message(runtime, actor, reference, "police_report_made", {}, reason="x")


def test_repeating_your_own_claim_changes_nothing(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    reference = cases.start_case(runtime, TESTER, "review_loop", {}).reference
    [task] = access.case_file(runtime, TESTER, reference).tasks
    master = as_user(runtime, "master")
    assert tasks.claim(runtime, master, task.id) is True
    assert tasks.claim(runtime, master, task.id) is False
    assert events(runtime, reference, "claim") == 1


def test_a_task_of_a_suspended_case_cannot_be_claimed(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    reference = cases.start_case(runtime, TESTER, "review_loop", {}).reference
    cases.set_status(runtime, TESTER, reference, CaseStatus.SUSPENDED, reason="police investigation")
    [task] = access.case_file(runtime, TESTER, reference).tasks
    with pytest.raises(Conflict, match="only a running case"):
        tasks.claim(runtime, as_user(runtime, "master"), task.id)
    assert events(runtime, reference, "claim") == 0


def test_only_administrators_change_a_case_status(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    reference = cases.start_case(runtime, TESTER, "review_loop", {}).reference
    with pytest.raises(Forbidden):
        cases.set_status(runtime, as_user(runtime, "senior_tutor"), reference, CaseStatus.TERMINATED, reason="x")
    with pytest.raises(Conflict, match="cannot become"):
        cases.set_status(runtime, TESTER, reference, CaseStatus.RUNNING, reason="x")
    with pytest.raises(InvalidData):
        cases.set_status(runtime, TESTER, reference, CaseStatus.COMPLETED, reason="x")
