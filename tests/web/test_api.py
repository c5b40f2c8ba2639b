"""The JSON API: tokens, every route's answer and refusals, and the OpenAPI document."""
from __future__ import annotations

import re

import pytest

from hsm_workflow.services import access, cases, deployment, tokens
from hsm_workflow.web.api.openapi import document

from conftest import TESTER, as_user
from .helpers import HERE, STRANGER, csrf_token


@pytest.fixture
def api(app, deployed):
    """``api("master")``: a test client whose requests carry that user's Bearer token."""
    def make(username: str):
        token = tokens.create_token(deployed, username)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client
    return make


def test_no_token_or_a_wrong_one_is_401(app, case):
    assert app.test_client().get("/api/v1/cases").status_code == 401
    response = app.test_client().get("/api/v1/cases", headers={"Authorization": "Bearer hsm_wrong"})
    assert response.status_code == 401
    assert response.json == {"error": "sign in, or send a valid API token as 'Authorization: Bearer <token>'",
                             "fields": {}}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_list_and_get_visible_cases(api, case):
    master = api("master")
    [summary] = master.get("/api/v1/cases").json["cases"]
    assert summary["reference"] == case and summary["status"] == "running"
    assert summary["started_at"] == "2026-01-05T09:00:00+00:00"
    assert master.get("/api/v1/cases?status=completed").json == {"cases": []}
    file = master.get(f"/api/v1/cases/{case}").json
    assert file["summary"]["reference"] == case and file["title"] == "Alex Student / Sam Staff"
    assert [t["name"] for t in file["tasks"]] == ["Review the measure"]


def test_invalid_query_parameters_are_422(api, case):
    response = api("master").get("/api/v1/cases?status=asleep&limit=0")
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"status", "limit"}


def test_start_a_case(api, deployed):
    response = api("caseworker").post("/api/v1/cases", json={"process_id": "review_loop",
                                                             "variables": {"student": "Kim"}})
    assert response.status_code == 201
    assert response.json["reference"] == "HSM-2026-0001" and response.json["unit"] == "downing"


def test_start_refusals(api, deployed):
    client = api("caseworker")
    response = client.post("/api/v1/cases", json={"variables": [], "colour": "red"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"process_id", "variables", "colour"}
    assert client.post("/api/v1/cases", data="nope").status_code == 422
    assert client.post("/api/v1/cases", json={"process_id": "nothing"}).status_code == 404
    response = api(STRANGER).post("/api/v1/cases", json={"process_id": "review_loop", "unit": "downing"})
    assert response.status_code == 403  # holds no role in Downing
    assert api(STRANGER).post("/api/v1/cases", json={"process_id": "review_loop", "unit": "emmanuel"}).status_code \
        == 201


def test_inbox_claim_unclaim_and_complete(api, runtime, case, task_id):
    master = api("master")
    inbox = master.get("/api/v1/tasks").json
    assert inbox["total"] == 1
    assert inbox["tasks"][0] == {"id": task_id, "case": case, "procedure": "Review loop",
                                 "name": "Review the measure", "role": "master", "due_on": "2026-01-26",
                                 "overdue": False, "due_soon": False, "claimed_by_me": False}
    assert master.post(f"/api/v1/tasks/{task_id}/claim").json == {"task": task_id, "claimed_by": "master"}
    assert master.get("/api/v1/tasks").json["tasks"][0]["claimed_by_me"] is True
    assert master.post(f"/api/v1/tasks/{task_id}/unclaim").json == {"task": task_id, "claimed_by": None}
    response = master.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "extend"}})
    assert response.status_code == 200
    following = response.json["next_task"]
    assert response.json["completed"] is True and following["name"] == "Review the measure"
    response = master.post(f"/api/v1/tasks/{following['id']}/complete", json={"data": {"decision": "lift"}})
    assert response.json["next_task"] is None
    assert access.case_file(runtime, TESTER, case).summary.status == "completed"


def test_complete_with_invalid_data_is_422_naming_the_fields(api, task_id):
    response = api("master").post(f"/api/v1/tasks/{task_id}/complete",
                                  json={"data": {"decision": "abolish", "colour": "red"}})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"decision", "colour"}
    response = api("master").post(f"/api/v1/tasks/{task_id}/complete", json={})
    assert response.status_code == 422 and response.json["fields"] == {"data": ["Missing data for required field."]}


def test_task_refusals(api, runtime, task_id):
    assert api("senior_tutor").post(f"/api/v1/tasks/{task_id}/claim").status_code == 403  # sees it, not the role
    api("master").post(f"/api/v1/tasks/{task_id}/claim")
    assert api("master").post(f"/api/v1/tasks/{task_id}/claim").status_code == 200  # already mine
    assert api("senior_tutor").post(f"/api/v1/tasks/{task_id}/unclaim").status_code == 409
    assert api("master").get("/api/v1/tasks?overdue=maybe").status_code == 422


def test_deliver_a_message(api, case):
    response = api("master").post(f"/api/v1/cases/{case}/messages", json={"name": "complaint_withdrawn"})
    assert response.status_code == 409
    assert "does not wait for the message" in response.json["error"]
    response = api("master").post(f"/api/v1/cases/{case}/messages", json={"name": "Bad Name", "payload": 3})
    assert response.status_code == 422 and set(response.json["fields"]) == {"name", "payload"}


def test_admin_status_actions(api, runtime, case):
    admin = api("admin")
    response = admin.post(f"/api/v1/cases/{case}/suspend", json={"reason": "police"})
    assert response.json == {"case": case, "status": "suspended"}
    assert admin.post(f"/api/v1/cases/{case}/suspend", json={"reason": "again"}).status_code == 409
    assert admin.post(f"/api/v1/cases/{case}/resume", json={"reason": " "}).status_code == 422
    assert admin.post(f"/api/v1/cases/{case}/resume", json={"reason": "done"}).json["status"] == "running"
    assert admin.post(f"/api/v1/cases/{case}/terminate", json={"reason": "error"}).json["status"] == "terminated"
    assert "Case suspended: police" in [e.summary for e in access.case_file(runtime, TESTER, case).events]
    assert api("master").post(f"/api/v1/cases/{case}/suspend", json={"reason": "x"}).status_code == 403


def test_every_case_route_is_404_for_a_user_with_no_business_there(api, case, task_id):
    stranger = api(STRANGER)
    assert stranger.get("/api/v1/cases").json == {"cases": []}
    assert stranger.get("/api/v1/tasks").json == {"tasks": [], "total": 0}
    assert stranger.get(f"/api/v1/cases/{case}").status_code == 404
    for path, body in ((f"/api/v1/cases/{case}/messages", {"name": "x"}),
                       (f"/api/v1/cases/{case}/suspend", {"reason": "x"}),
                       (f"/api/v1/cases/{case}/resume", {"reason": "x"}),
                       (f"/api/v1/cases/{case}/terminate", {"reason": "x"}),
                       (f"/api/v1/tasks/{task_id}/claim", None), (f"/api/v1/tasks/{task_id}/unclaim", None),
                       (f"/api/v1/tasks/{task_id}/complete", {"data": {"decision": "lift"}}),
                       ("/api/v1/cases", {"process_id": "review_loop", "parent": case})):
        response = stranger.post(path, json=body)
        assert response.status_code == 404, path
        assert set(response.json) == {"error", "fields"}


def test_session_cookie_callers_need_the_csrf_header(client_for, task_id):
    client = client_for("master")
    assert client.get("/api/v1/tasks").json["total"] == 1
    response = client.post(f"/api/v1/tasks/{task_id}/claim")
    assert response.status_code == 400 and "error" in response.json
    token = csrf_token(client, "/")
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers={"X-CSRFToken": token}).status_code == 200


def test_a_token_is_not_a_way_round_csrf_for_the_web_pages(app, api, task_id):
    client = api("master")
    assert client.post(f"/tasks/{task_id}/claim").status_code == 400


def _routes(app) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            found.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return found


def test_the_openapi_document_describes_exactly_the_routes(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json == document(app)
    documented = {path: set(item) for path, item in response.json["paths"].items()}
    assert documented == _routes(app)
    refs = set(re.findall(r'"#/components/(\w+/\w+)"', response.get_data(as_text=True)))
    components = response.json["components"]
    assert refs and refs <= {f"{kind}/{name}" for kind in ("schemas", "responses") for name in components[kind]}


def test_the_openapi_document_is_generated_from_the_schemas_that_validate(app):
    """A field added to a request schema is documented and enforced from that one declaration."""
    paths = document(app)["paths"]
    start = paths["/cases"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/StartCase"}
    assert start["responses"]["201"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/CaseSummary"}
    started = document(app)["components"]["schemas"]["StartCase"]
    assert started["required"] == ["process_id"] and started["additionalProperties"] is False
    offset = next(p for p in paths["/cases"]["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["maximum"] == 2**63 - 1
    task_id = paths["/tasks/{task_id}/claim"]["post"]["parameters"][0]
    assert task_id["in"] == "path" and task_id["schema"]["maximum"] == 2**31 - 1  # ids are int4 columns
    for path, item in paths.items():
        for method, spec in item.items():
            assert all(code == "200" or code == "201" or "$ref" in answer for code, answer in spec["responses"].items())
            assert "422" in spec["responses"], (path, method)
            assert ("401" in spec["responses"]) == (path != "/openapi.json"), (path, method)


def test_the_case_file_lists_only_linked_cases_the_caller_may_see(api, runtime, deployed):
    deployment.deploy(deployed, {"with_measure.bpmn": (HERE / "fixtures" / "with_measure.bpmn").read_bytes()},
                      by="tester")
    parent = cases.start_case(deployed, as_user(deployed, "caseworker"), "with_measure", {}).reference
    [child] = access.case_file(runtime, TESTER, parent).linked
    assert [c["reference"] for c in api("senior_tutor").get(f"/api/v1/cases/{parent}").json["linked"]] == \
        [child.reference]
    assert api("caseworker").get(f"/api/v1/cases/{parent}").json["linked"] == []
