"""Fields shown only for one value of a choice (form-js conditional.hide), and required while shown."""
from __future__ import annotations

import json

import pytest

from hsm_workflow.domain.forms import FormDefinitionError, FormValidationError, parse_form, validate_submission

HIDE_UNLESS_EXTENDED = '=outcome != "extended"'


def mediation(hide: str = HIDE_UNLESS_EXTENDED, on: str = "outcome"):
    return parse_form(json.dumps({"id": "mediation", "components": [
        {"type": "radio", "key": "outcome", "label": "Outcome", "validate": {"required": True},
         "values": [{"value": "resolved", "label": "Resolved"}, {"value": "extended", "label": "Extended"}]},
        {"type": "datetime", "subtype": "date", "key": "until", "label": "Until", "validate": {"required": True},
         "conditional": {"hide": hide.replace("outcome", on)}},
        {"type": "textarea", "key": "why", "label": "Why", "conditional": {"hide": HIDE_UNLESS_EXTENDED}},
    ]}), "forms/mediation.form")


def test_a_field_required_while_shown_is_not_required_always():
    until = mediation().field("until")
    assert (until.required, until.required_if_shown, until.shown_when) == (False, True, ("outcome", "extended"))
    assert mediation().field("why").required_if_shown is False


def test_required_while_shown_names_the_missing_field():
    with pytest.raises(FormValidationError) as caught:
        validate_submission(mediation(), {"outcome": "extended"})
    assert caught.value.errors == {"until": ["Missing data for required field."]}


def test_a_missing_field_is_reported_beside_other_errors():
    with pytest.raises(FormValidationError) as caught:
        validate_submission(mediation(), {"outcome": "extended", "surprise": 1})
    assert set(caught.value.errors) == {"until", "surprise"}


def test_shown_fields_are_checked_and_hidden_ones_are_not_submitted():
    assert validate_submission(mediation(), {"outcome": "extended", "until": "2026-05-15", "why": "asked"}) == {
        "outcome": "extended", "until": "2026-05-15", "why": "asked"}
    assert validate_submission(mediation(), {"outcome": "resolved", "until": "not a date", "why": "x"}) == {
        "outcome": "resolved"}


@pytest.mark.parametrize("hide", ['=outcome = "extended"', "=outcome != extended", "outcome != \"extended\""])
def test_other_conditions_are_refused(hide):
    with pytest.raises(FormDefinitionError, match="conditional.hide"):
        mediation(hide=hide)


def test_a_condition_must_name_a_choice_of_the_form_and_one_of_its_options():
    with pytest.raises(FormDefinitionError, match="'missing', which is not a radio or select"):
        mediation(on="missing")
    with pytest.raises(FormDefinitionError, match="'later', which is not an option of 'outcome'"):
        mediation(hide='=outcome != "later"')
