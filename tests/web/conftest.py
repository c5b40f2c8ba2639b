"""Web fixtures: the demo organisation, the review loop (with diagram layout) deployed,
one case started, and the app on it. They run on every backend the root conftest offers."""
from __future__ import annotations

import pytest

from hsm_workflow.services import access, cases, deployment
from hsm_workflow.web import create_app

from .helpers import LOOP_WITH_LAYOUT, sign_in
from conftest import TESTER, as_user


@pytest.fixture
def deployed(runtime):
    deployment.deploy(runtime, {"review_loop.bpmn": LOOP_WITH_LAYOUT.read_bytes()}, by="tester")
    return runtime


@pytest.fixture
def case(deployed) -> str:
    """A running review-loop case in Downing: its task is for the master."""
    return cases.start_case(deployed, as_user(deployed, "caseworker"), "review_loop", {"student": "Alex Student", "respondent": "Sam Staff"}).reference


@pytest.fixture
def task_id(runtime, case) -> int:
    [task] = [t for t in access.case_file(runtime, TESTER, case).tasks if t.status == "open"]
    return task.id


@pytest.fixture
def app(deployed):
    return create_app(deployed)


@pytest.fixture
def client_for(app):
    """``client_for("master")``: a test client signed in as that demo user."""
    def make(username: str):
        client = app.test_client()
        assert sign_in(client, username).status_code == 302
        return client
    return make
