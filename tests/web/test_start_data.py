"""Start data and conditional fields over the JSON API, on the shipped diagrams and forms."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hsm_workflow.db.models import Case, CaseEvent
from hsm_workflow.services import access, deployment, tasks, tokens
from hsm_workflow.web import create_app

from conftest import ROOT, TESTER, as_user

COLLEGE = {"complainant": "Alex Example", "respondent": "Sam Sample", "complaint_received_on": "2026-01-05",
           "complaint_summary": "Unwanted messages"}
STAFF = {"complainant": "Jo Tech", "complainant_is_student": False, "subject": "Dr Blake",
         "complaint_received_on": "2026-01-05", "complaint_summary": "Hostile emails"}


@pytest.fixture
def shipped(runtime):
    library = deployment.Library.load(ROOT / "forms", ROOT / "letters")
    deployment.deploy(runtime, deployment.read_bpmn([ROOT / "processes"]), by="tester", library=library)
    return runtime


@pytest.fixture
def api(shipped):
    app = create_app(shipped)

    def make(username: str):
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens.create_token(shipped, username)}"
        return client
    return make


def case_count(runtime) -> int:
    with runtime.reading() as session:
        return session.scalar(select(func.count(Case.id)))


def open_task(runtime, reference: str, element: str) -> int:
    [task_id] = [t.id for t in access.case_file(runtime, TESTER, reference).tasks
                 if t.element == element and t.status == "open"]
    return task_id


def complete(runtime, reference: str, element: str, username: str, data: dict) -> None:
    tasks.complete(runtime, as_user(runtime, username), open_task(runtime, reference, element), data)


def test_a_start_with_missing_data_is_422_naming_the_fields_and_starts_nothing(api, shipped):
    response = api("senior_tutor").post("/api/v1/cases", json={
        "process_id": "college_procedure", "variables": {"complainant": "Alex Example"}})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"respondent", "complaint_received_on", "complaint_summary"}
    assert "complaint_received_on: Missing data for required field." in response.json["error"]
    assert case_count(shipped) == 0


def test_a_start_with_a_bad_date_or_an_unknown_field_is_422(api, shipped):
    response = api("senior_tutor").post("/api/v1/cases", json={
        "process_id": "college_procedure",
        "variables": {**COLLEGE, "complaint_received_on": "last Tuesday", "colour": "blue"}})
    assert response.status_code == 422
    assert response.json["fields"] == {"complaint_received_on": ["Not a valid date."], "colour": ["Unknown field."]}
    assert case_count(shipped) == 0


def test_a_valid_start_is_cleaned_by_the_start_form(api, shipped):
    response = api("senior_tutor").post("/api/v1/cases", json={
        "process_id": "college_procedure", "variables": {**COLLEGE, "complainant": "  Alex Example  "}})
    assert response.status_code == 201, response.json
    with shipped.reading() as session:
        started = session.scalar(select(CaseEvent).where(CaseEvent.kind == "started"))
        assert started.data["data"]["complainant"] == "Alex Example"


def test_mediation_extended_without_a_date_is_422_naming_the_date(api, shipped):
    reference = api("head_of_department").post("/api/v1/cases", json={
        "process_id": "staff_complaint", "variables": STAFF, "unit": "chemistry"}).json["reference"]
    complete(shipped, reference, "Staff_ChooseRoute", "caseworker", {"staff_route": "mediation"})
    complete(shipped, reference, "Staff_NominateMediator", "hr_director",
             {"staff_mediation_agreed": "yes", "staff_mediator_name": "R. Mediator"})
    complete(shipped, reference, "Staff_MediationMeetings", "mediator",
             {"staff_mediation_initial_meetings_on": "2026-01-12"})
    task_id = open_task(shipped, reference, "Staff_Mediation")
    mediator = api("mediator")
    mediator.post(f"/api/v1/tasks/{task_id}/claim")
    response = mediator.post(f"/api/v1/tasks/{task_id}/complete",
                             json={"data": {"staff_mediation_outcome": "extended"}})
    assert response.status_code == 422
    assert response.json["fields"] == {"staff_mediation_extended_until": ["Missing data for required field."]}
    assert open_task(shipped, reference, "Staff_Mediation") == task_id
    response = mediator.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {
        "staff_mediation_outcome": "extended", "staff_mediation_extended_until": "2026-03-02"}})
    assert response.status_code == 200, response.json
    [extended] = [t for t in access.case_file(shipped, TESTER, reference).tasks
                  if t.element == "Staff_MediationExtended"]
    assert extended.due_on.isoformat() == "2026-03-02"


def test_a_linked_measures_case_is_handed_the_parties_of_the_college_case(api, shipped):
    reference = api("senior_tutor").post("/api/v1/cases", json={
        "process_id": "college_procedure", "variables": COLLEGE}).json["reference"]
    complete(shipped, reference, "Task_Intake", "senior_tutor",
             {"intake_route": "formal_complaint", "intake_reasons": "College procedure chosen"})
    complete(shipped, reference, "Task_InitialConsideration", "senior_tutor", {
        "initial_outcome": "investigate", "initial_outcome_reasons": "Within scope",
        "initial_measures_advice": "advise_measures"})
    [linked] = access.case_file(shipped, TESTER, reference).linked
    with shipped.reading() as session:
        child = session.scalar(select(Case).where(Case.reference == linked.reference))
        started = session.scalar(select(CaseEvent).where(CaseEvent.case_id == child.id, CaseEvent.kind == "started"))
        assert started.data["data"] == {"student": "Sam Sample", "other_party": "Alex Example",
                                        "advised_by_senior_tutor_on": "2026-01-05", "parent_case": reference}
