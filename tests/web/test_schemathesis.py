"""A bounded property-based run of the JSON API against its generated OpenAPI document.

schemathesis generates requests for every documented operation (valid ones, and invalid ones
that must be refused with a 4xx), sends them to the app (WSGI) with the Bearer token of an
administrator and of an ordinary role holder, and checks each answer: no 5xx, and a status,
content type and body the document names. Each operation runs once with generated path ids and
once with the ids of a real case and task, so the routes also reach the services. Derandomized:
the same requests on every run.
"""
from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from hsm_workflow.services import tokens

MAX_EXAMPLES = 12
USERS = ("admin", "master")  # an administrator, and the role holder the case's task is for
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
SETTINGS = settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))


def _run(operation, mode: GenerationMode, path_parameters: dict, headers: dict, figures: Counter) -> None:
    @SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        for user, header in headers.items():
            response = case.call_and_validate(headers=header, checks=CHECKS)
            figures[f"{response.status_code}"] += 1
            figures["requests"] += 1
    run()


def test_the_api_answers_as_its_openapi_document_says(app, deployed, case, task_id, capsys):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {user: {"Authorization": f"Bearer {tokens.create_token(deployed, user)}"} for user in USERS}
    real = {"reference": case, "task_id": task_id}
    operations = [result.ok() for result in schema.get_all_operations()]
    figures: Counter = Counter()
    failures: list[str] = []
    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for ids in ({}, {name: real[name] for name in names}) if names else ({},):
                figures["runs"] += 1
                try:
                    _run(operation, mode, ids, headers, figures)
                except Exception as error:  # noqa: BLE001  (collect every operation's failure, then fail)
                    failures.append(f"{operation.label} [{mode.value}{', real ids' if ids else ''}]: {error}")
    statuses = ", ".join(f"{code}: {count}" for code, count in sorted(figures.items()) if code.isdigit())
    with capsys.disabled():
        print(f"\nschemathesis: {len(operations)} operations, {figures['runs']} runs of up to {MAX_EXAMPLES} "
              f"examples, {figures['requests']} requests ({statuses}), {len(failures)} failures")
    documented = {f"{method.upper()} {path}" for path, methods in schema.raw_schema["paths"].items()
                  for method in methods}
    assert {operation.label for operation in operations} == documented - {"GET /openapi.json"}  # it skips its own
    assert not failures, "\n\n".join(failures)
