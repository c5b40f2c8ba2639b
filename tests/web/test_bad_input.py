"""Input that once crashed the app (findings.md, "Attacked") now gets a clear 4xx, in the API
and in the web pages, on every database the suite runs on."""
from __future__ import annotations

import json

import pytest

from hsm_workflow.services import access, tokens

from conftest import TESTER
from .helpers import csrf_token, post, text

ID_MAX = 2**31 - 1  # ids are Integer columns: int4 on PostgreSQL
TOO_BIG = 2**63
HUGE = "9" * 5000  # beyond what int() converts by default


@pytest.fixture
def api(app, deployed):
    """A test client whose requests carry the master's Bearer token."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens.create_token(deployed, 'master')}"
    return client


def send(client, path: str, raw: str | bytes):
    return client.post(path, data=raw, content_type="application/json")


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, text(response)
    assert response.mimetype == "application/json"
    assert set(response.json) == {"error", "fields"} and "Traceback" not in text(response)
    if field is not None:
        assert field in response.json["fields"], response.json
    return response.json


# --- integers beyond 64 bits ----------------------------------------------------------------
@pytest.mark.parametrize("task", [ID_MAX + 1, 2**63 - 1, TOO_BIG, HUGE])
def test_a_huge_task_id_in_an_api_path_is_404(api, task_id, task):
    for action in ("claim", "unclaim"):
        refused(api.post(f"/api/v1/tasks/{task}/{action}"), 404)
    refused(api.post(f"/api/v1/tasks/{task}/complete", json={"data": {}}), 404)


@pytest.mark.parametrize("number", [ID_MAX + 1, TOO_BIG, HUGE])
def test_a_huge_id_in_a_web_path_is_404(client_for, case, number):
    admin = client_for("admin")
    for path in (f"/tasks/{number}", f"/cases/{case}/letters/{number}", f"/processes/review_loop/v{number}",
                 f"/processes/review_loop/v{number}/source.bpmn"):
        response = admin.get(path)
        assert response.status_code == 404 and "There is nothing here" in text(response), path
    for path in (f"/tasks/{number}", f"/tasks/{number}/claim", f"/admin/cases/{case}/tasks/{number}/reassign",
                 f"/admin/tokens/{number}/revoke"):
        assert post(admin, path, {"reason": "x"}).status_code == 404, path


def test_the_largest_id_a_row_can_have_is_looked_up(client_for, api, case):
    refused(api.post(f"/api/v1/tasks/{ID_MAX}/claim"), 404)
    assert client_for("admin").get(f"/tasks/{ID_MAX}").status_code == 404
    assert client_for("admin").get(f"/cases/{case}/letters/{ID_MAX}").status_code == 404


@pytest.mark.parametrize("offset", [str(TOO_BIG), HUGE, "-1"])
def test_a_huge_offset_is_422_naming_it(api, case, offset):
    refused(api.get(f"/api/v1/cases?offset={offset}"), 422, "offset")


def test_the_largest_offset_answers_an_empty_page(api, case):
    assert api.get(f"/api/v1/cases?offset={2**63 - 1}").json == {"cases": []}


@pytest.mark.parametrize("path", ["/api/v1/cases?limit={n}", "/api/v1/tasks?limit={n}"])
def test_a_huge_limit_is_422_naming_it(api, case, path):
    refused(api.get(path.format(n=TOO_BIG)), 422, "limit")


def test_a_huge_integer_in_a_body_is_422_naming_it(api, case):
    body = json.dumps({"process_id": "review_loop", "variables": {"count": TOO_BIG}})
    refused(send(api, "/api/v1/cases", body), 422, "variables.count")
    refused(send(api, "/api/v1/cases", '{"process_id": "review_loop", "variables": {"n": %s}}' % HUGE), 422)


# --- JSON nested deep, too large --------------------------------------------------------------
@pytest.mark.parametrize("levels", [100_000, 33])
def test_json_nested_deep_is_422(api, task_id, levels):
    body = '{"data": {"decision": %s}}' % deep(levels)
    answer = refused(send(api, f"/api/v1/tasks/{task_id}/complete", body), 422)
    assert "levels deep" in json.dumps(answer)
    assert api.get("/api/v1/tasks").json["total"] == 1  # nothing happened


def test_json_nested_within_the_limit_reaches_validation(api, task_id):
    answer = refused(send(api, f"/api/v1/tasks/{task_id}/complete", '{"data": {"decision": %s}}' % deep(30)),
                     422, "decision")
    assert "levels deep" not in json.dumps(answer)


def test_a_body_over_a_mebibyte_is_413(api, case):
    body = json.dumps({"process_id": "review_loop", "variables": {"notes": "x" * (1024 * 1024)}})
    refused(send(api, "/api/v1/cases", body), 413)


# --- NaN and Infinity -----------------------------------------------------------------------
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_422(api, runtime, case, constant):
    body = '{"process_id": "review_loop", "variables": {"score": %s}}' % constant
    answer = refused(send(api, "/api/v1/cases", body), 422)
    assert "Not valid JSON" in answer["fields"]["_schema"][0]
    body = '{"name": "complaint_withdrawn", "payload": {"score": %s}}' % constant
    refused(send(api, f"/api/v1/cases/{case}/messages", body), 422)
    assert api.get("/api/v1/cases").json["cases"][0]["reference"] == case  # no case was started


def test_non_finite_numbers_in_the_admin_message_form_are_422(client_for, case):
    admin = client_for("admin")
    for payload in ('{"score": NaN}', '{"score": Infinity}', deep(100_000)):
        response = post(admin, f"/admin/cases/{case}/message",
                        {"name": "complaint_withdrawn", "payload": payload, "reason": "x"})
        assert response.status_code == 422, payload
        assert "Not valid JSON" in text(response) or "levels deep" in text(response)


# --- NUL characters ---------------------------------------------------------------------------
def test_a_nul_in_a_json_string_is_422_naming_the_field(api, case):
    for body, field in (({"process_id": "review_loop", "variables": {"student": "A\x00B"}}, "variables.student"),
                        ({"process_id": "review\x00loop"}, "process_id"),
                        ({"process_id": "review_loop", "variables": {"a\x00": 1}}, "variables"),
                        ({"process_id": "review_loop", "unit": "downing\x00"}, "unit")):
        answer = refused(api.post("/api/v1/cases", json=body), 422, field)
        assert "NUL" in answer["fields"][field][0]
    refused(api.post(f"/api/v1/cases/{case}/messages", json={"name": "x", "reason": "\x00"}), 422, "reason")


def test_a_nul_in_an_api_query_or_path_is_refused(api, case):
    refused(api.get("/api/v1/tasks?process_id=review%00loop"), 422, "process_id")
    refused(api.get("/api/v1/cases/HSM%00-2026-0001"), 404)
    refused(api.post("/api/v1/cases/%00/suspend", json={"reason": "x"}), 404)


def test_a_nul_in_a_web_form_or_query_gets_a_readable_page(app, client_for, case, task_id):
    client = app.test_client()
    response = client.post("/login", data={"username": "master\x00", "password": "demo",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 422 and "NUL" in text(response) and "<html" in text(response)
    master = client_for("master")
    response = post(master, f"/tasks/{task_id}", {"decision": "extend\x00"}, token_from=f"/tasks/{task_id}")
    assert response.status_code == 422 and "decision" in text(response) and "NUL" in text(response)
    assert master.get("/?procedure=review%00loop").status_code == 422
    assert master.get("/cases/HSM%00").status_code == 404
    assert client_for("admin").get("/admin?procedure=%00").status_code == 422
    assert access.case_file(app.extensions["hsm_runtime"], TESTER, case).tasks[0].status == "open"


# --- lone surrogates ----------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b'"\\ud800"', b'"\\udfff tail"', b'"\xed\xa0\x80"'])
def test_a_lone_surrogate_is_422_naming_the_field(api, case, raw):
    body = b'{"process_id": "review_loop", "variables": {"student": %s}}' % raw
    answer = refused(send(api, "/api/v1/cases", body), 422, "variables.student")
    assert "surrogate" in answer["fields"]["variables.student"][0]
    body = b'{"reason": %s}' % raw
    refused(send(api, f"/api/v1/cases/{case}/suspend", body), 422, "reason")


def test_a_surrogate_pair_is_text(api, deployed):
    response = api.post("/api/v1/cases", data='{"process_id": "review_loop", "variables": {"s": "\\ud83d\\ude00"}}',
                        content_type="application/json")
    assert response.status_code == 201


# --- anything unexpected ------------------------------------------------------------------------
def test_an_unexpected_error_under_the_api_is_a_json_500_without_a_traceback(api, case, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")
    monkeypatch.setattr(access, "visible_cases", broken)
    response = api.get("/api/v1/cases")
    refused(response, 500)
    assert "secret internals" not in text(response)
