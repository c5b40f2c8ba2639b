"""The data a case starts with, checked against its process's start form.

A process declares the Camunda Form that opens a case on its start event
(``camunda:formRef``, as on user tasks); the deployment pins it with the version. Start data
is validated exactly as a task submission is. A linked case (``startProcess``) is handed the
parent's values of its start form's fields only.

A process with no start form (older versions, test fixtures) takes any JSON object as it is,
and the deployment cannot check what its diagram reads.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..db.models import ProcessVersion
from ..domain.forms import Form, FormDefinitionError, FormValidationError, parse_form, validate_submission
from ..engine.parsing import ParsedProcess, Problem
from ..errors import InvalidData
from .data_flow import start_event, start_form_of

CAMUNDA_FORM_KEY = "{http://camunda.org/schema/1.0/bpmn}formKey"


def start_form(version: ProcessVersion) -> Form | None:
    """The start form deployed with the version, if its process declares one."""
    form_id = version.assets.get("start_form")
    return _parsed(version.assets["forms"][form_id], form_id) if form_id else None


@lru_cache(maxsize=64)
def _parsed(source: str, form_id: str) -> Form:
    return parse_form(source, f"forms/{form_id}.form")


def validated_start_data(version: ProcessVersion, variables: Mapping[str, Any]) -> dict[str, Any]:
    """Clean start data for a case of ``version``; InvalidData naming each bad or missing field."""
    form = start_form(version)
    if form is None:
        return dict(variables)
    try:
        return validate_submission(form, variables)
    except FormValidationError as error:
        raise InvalidData(f"start data for {version.process_id}: {_reasons(error.errors)}", error.errors) from error


def handed_over(version: ProcessVersion, parent_variables: Mapping[str, Any]) -> dict[str, Any]:
    """What a parent case hands a linked case of ``version``: its values of the start form's fields."""
    form = start_form(version)
    if form is None:
        return dict(parent_variables)
    keys = {field.key for field in form.fields}
    return {key: value for key, value in parent_variables.items() if key in keys}


def _reasons(errors: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{key}: {' '.join(messages)}" for key, messages in sorted(errors.items()))


def start_form_problems(process: ParsedProcess, forms: Mapping[str, str]) -> list[Problem]:
    """Why the start form a process declares cannot be used, if it cannot."""
    start = start_event(process)
    if start is None:
        return []

    def problem(message: str) -> list[Problem]:
        return [Problem(process.file_name, start.get("id"), message)]

    if start.get(CAMUNDA_FORM_KEY) is not None:
        return problem("start event uses camunda:formKey: link a Camunda Form with camunda:formRef")
    form_id = start_form_of(process)
    if form_id is None:
        return []
    if form_id not in forms:
        return problem(f"start form {form_id!r} not found in forms/")
    try:
        parse_form(forms[form_id], f"forms/{form_id}.form")
    except FormDefinitionError as error:
        return problem(str(error))
    return []
