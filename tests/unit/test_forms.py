"""Camunda Forms parsing and submission validation (hsm_workflow.domain.forms)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hsm_workflow.domain.forms import (
    Field,
    FormDefinitionError,
    FormValidationError,
    form_schema,
    load_form,
    parse_form,
    validate_submission,
)

SOURCE = "forms/college_initial_consideration.form"

# What Camunda Modeler 5.x's form editor writes (ids and layout rows included).
MODELER_FORM = """
{
  "components": [
    {
      "text": "## Initial consideration\\n\\nRecord your decision under 004 App B §6.1.4.",
      "type": "text",
      "layout": {"row": "Row_1a2b3c4", "columns": null},
      "id": "Field_0intro"
    },
    {
      "values": [
        {"label": "(a) Refer for investigation", "value": "investigate"},
        {"label": "(b) Resolve informally", "value": "informal"},
        {"label": "(c) Take no further action", "value": "no_action"}
      ],
      "label": "Outcome",
      "type": "radio",
      "layout": {"row": "Row_0outcome", "columns": null},
      "id": "Field_1outcome",
      "key": "outcome",
      "validate": {"required": true},
      "description": "Choose one outcome"
    },
    {
      "label": "Reasons",
      "type": "textarea",
      "layout": {"row": "Row_0reasons", "columns": null},
      "id": "Field_2reasons",
      "key": "reasons",
      "validate": {"required": true, "minLength": 10, "maxLength": 2000}
    },
    {
      "label": "Case officer email",
      "type": "textfield",
      "id": "Field_3email",
      "key": "officer_email",
      "validate": {"validationType": "email"}
    },
    {
      "label": "Reference",
      "type": "textfield",
      "id": "Field_4ref",
      "key": "reference",
      "validate": {"validationType": "", "pattern": "^HSM-[0-9]{4}$"},
      "defaultValue": "HSM-"
    },
    {"type": "spacer", "height": 30, "id": "Field_5spacer"},
    {"type": "separator", "id": "Field_6sep"},
    {
      "label": "Working days allowed",
      "type": "number",
      "id": "Field_7days",
      "key": "days_allowed",
      "decimalDigits": 0,
      "validate": {"min": 1, "max": "60"}
    },
    {
      "label": "Fee",
      "type": "number",
      "id": "Field_8fee",
      "key": "fee",
      "decimalDigits": 2
    },
    {
      "label": "The complainant has been told",
      "type": "checkbox",
      "id": "Field_9told",
      "key": "complainant_informed",
      "defaultValue": false
    },
    {
      "label": "Group",
      "type": "group",
      "id": "Field_10group",
      "showOutline": true,
      "components": [
        {
          "values": [
            {"label": "No-contact requirement", "value": "no_contact"},
            {"label": "Change of accommodation", "value": "accommodation"}
          ],
          "label": "Interim measures",
          "type": "checklist",
          "id": "Field_11measures",
          "key": "measures"
        },
        {
          "values": [
            {"label": "Senior Tutor", "value": "senior_tutor"},
            {"label": "Master", "value": "master"}
          ],
          "label": "Copy to",
          "type": "taglist",
          "id": "Field_12copy",
          "key": "copy_to"
        }
      ]
    },
    {
      "values": [
        {"label": "College", "value": "college"},
        {"label": "University", "value": "university"}
      ],
      "label": "Procedure",
      "type": "select",
      "id": "Field_13proc",
      "key": "procedure",
      "defaultValue": "college"
    },
    {
      "subtype": "date",
      "dateLabel": "Referred on",
      "type": "datetime",
      "id": "Field_14date",
      "key": "referred_on",
      "validate": {"required": false}
    },
    {
      "subtype": "time",
      "timeLabel": "Meeting time",
      "use24h": true,
      "timeInterval": 15,
      "timeSerializingFormat": "no_timezone",
      "type": "datetime",
      "id": "Field_15time",
      "key": "meeting_time"
    },
    {
      "subtype": "datetime",
      "dateLabel": "Meeting starts",
      "timeLabel": "Time",
      "timeSerializingFormat": "utc_offset",
      "type": "datetime",
      "id": "Field_16dt",
      "key": "meeting_at"
    }
  ],
  "type": "default",
  "id": "college_initial_consideration",
  "executionPlatform": "Camunda Platform",
  "executionPlatformVersion": "7.21.0",
  "exporter": {"name": "Camunda Modeler", "version": "5.22.0"},
  "schemaVersion": 16
}
"""

VALID = {"outcome": "investigate", "reasons": "Serious allegation of harassment."}


@pytest.fixture(scope="module")
def form():
    return parse_form(MODELER_FORM, SOURCE)


def form_with(*components: dict[str, Any], form_id: str = "test_form") -> str:
    """A minimal form file text holding the given components."""
    return json.dumps({"components": list(components), "type": "default", "id": form_id, "schemaVersion": 16})


def errors_of(form, data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(FormValidationError) as raised:
        validate_submission(form, data)
    return raised.value.errors


# ---------------------------------------------------------------- parsing


def test_parse_form_reads_id_and_input_fields_in_order_flattening_groups(form):
    assert form.id == "college_initial_consideration"
    assert [f.key for f in form.fields] == [
        "outcome", "reasons", "officer_email", "reference", "days_allowed", "fee",
        "complainant_informed", "measures", "copy_to", "procedure",
        "referred_on", "meeting_time", "meeting_at",
    ]


def test_parse_form_keeps_raw_components_for_rendering_static_text_in_order(form):
    assert form.components[0]["type"] == "text"
    assert form.components[0]["text"].startswith("## Initial consideration")
    assert [c["type"] for c in form.components][:3] == ["text", "radio", "textarea"]


def test_radio_field_has_options_label_description_and_required(form):
    assert form.field("outcome") == Field(
        key="outcome",
        type="radio",
        label="Outcome",
        required=True,
        description="Choose one outcome",
        options=(
            ("investigate", "(a) Refer for investigation"),
            ("informal", "(b) Resolve informally"),
            ("no_action", "(c) Take no further action"),
        ),
    )


def test_textarea_reads_length_rules(form):
    reasons = form.field("reasons")
    assert (reasons.type, reasons.required, reasons.min_length, reasons.max_length) == ("textarea", True, 10, 2000)


def test_textfield_reads_email_validation_type_pattern_and_default(form):
    assert form.field("officer_email").email is True
    reference = form.field("reference")
    assert (reference.type, reference.pattern, reference.default, reference.email) == (
        "textfield", "^HSM-[0-9]{4}$", "HSM-", False,
    )


def test_number_reads_min_max_as_numbers_and_decimal_digits(form):
    days = form.field("days_allowed")
    assert (days.type, days.minimum, days.maximum, days.decimal_digits) == ("number", 1, 60, 0)
    assert form.field("fee").decimal_digits == 2


def test_checkbox_reads_default(form):
    informed = form.field("complainant_informed")
    assert (informed.type, informed.label, informed.default) == ("checkbox", "The complainant has been told", False)


def test_checklist_and_taglist_inside_group_read_options(form):
    assert form.field("measures").type == "checklist"
    assert form.field("measures").options == (
        ("no_contact", "No-contact requirement"), ("accommodation", "Change of accommodation"),
    )
    assert form.field("copy_to").type == "taglist"
    assert [value for value, _ in form.field("copy_to").options] == ["senior_tutor", "master"]


def test_select_reads_options_and_default(form):
    procedure = form.field("procedure")
    assert (procedure.type, procedure.default) == ("select", "college")
    assert procedure.options == (("college", "College"), ("university", "University"))


def test_datetime_reads_subtype_and_date_or_time_label(form):
    assert (form.field("referred_on").subtype, form.field("referred_on").label) == ("date", "Referred on")
    assert (form.field("meeting_time").subtype, form.field("meeting_time").label) == ("time", "Meeting time")
    assert (form.field("meeting_at").subtype, form.field("meeting_at").label) == ("datetime", "Meeting starts")


def test_form_field_raises_key_error_for_unknown_key(form):
    with pytest.raises(KeyError):
        form.field("nope")


def test_rules_not_applying_to_a_component_type_are_ignored():
    parsed = parse_form(form_with({"type": "checkbox", "key": "agree", "validate": {"minLength": 3, "min": 1}}), SOURCE)
    assert (parsed.fields[0].min_length, parsed.fields[0].minimum) == (None, None)


def test_load_form_reads_the_file(tmp_path: Path):
    path = tmp_path / "college_initial_consideration.form"
    path.write_text(MODELER_FORM, encoding="utf-8")
    assert load_form(path).id == "college_initial_consideration"


def test_load_form_rejects_id_that_differs_from_file_name(tmp_path: Path):
    path = tmp_path / "other_name.form"
    path.write_text(MODELER_FORM, encoding="utf-8")
    with pytest.raises(FormDefinitionError, match=r"other_name\.form.*'college_initial_consideration'"):
        load_form(path)


# ---------------------------------------------------------------- definition errors


def assert_definition_error(text: str, *expected: str) -> None:
    with pytest.raises(FormDefinitionError) as raised:
        parse_form(text, SOURCE)
    message = str(raised.value)
    assert isinstance(raised.value, ValueError)
    for part in (SOURCE, *expected):
        assert part in message, f"{part!r} not in {message!r}"


def test_invalid_json_is_a_definition_error():
    assert_definition_error('{"components": [', "invalid JSON")


def test_missing_form_id_is_a_definition_error():
    assert_definition_error(json.dumps({"components": [], "type": "default"}), "missing form id")


def test_missing_components_list_is_a_definition_error():
    assert_definition_error(json.dumps({"id": "x"}), "'components' must be a list")


def test_component_without_key_is_a_definition_error_naming_its_index():
    text = form_with({"type": "text", "text": "Hi"}, {"type": "textfield", "label": "Name"})
    assert_definition_error(text, "components[1]", "has no 'key'")


def test_unknown_component_type_is_a_definition_error_naming_key():
    assert_definition_error(form_with({"type": "filepicker", "key": "evidence"}), "'evidence'", "'filepicker'")


def test_button_component_is_an_unknown_type():
    assert_definition_error(form_with({"type": "button", "action": "submit", "label": "Submit"}), "components[0]", "'button'")


def test_duplicate_key_is_a_definition_error_naming_both_places():
    text = form_with(
        {"type": "textfield", "key": "reasons"},
        {"type": "group", "components": [{"type": "textarea", "key": "reasons"}]},
    )
    assert_definition_error(text, "components[1].components[0] 'reasons'", "duplicate key", "components[0]")


@pytest.mark.parametrize("kind", ["radio", "select", "checklist", "taglist"])
def test_option_component_without_static_values_is_a_definition_error(kind: str):
    assert_definition_error(form_with({"type": kind, "key": "outcome"}), "'outcome'", "static options")


def test_dynamic_options_from_values_key_are_a_definition_error():
    assert_definition_error(form_with({"type": "select", "key": "outcome", "valuesKey": "choices"}), "'outcome'", "valuesKey")


def test_option_without_string_value_is_a_definition_error():
    text = form_with({"type": "radio", "key": "outcome", "values": [{"label": "Yes", "value": True}]})
    assert_definition_error(text, "'outcome'", "non-empty string 'value'")


def test_duplicate_option_values_are_a_definition_error():
    options = [{"label": "A", "value": "a"}, {"label": "Also A", "value": "a"}]
    assert_definition_error(form_with({"type": "select", "key": "outcome", "values": options}), "'outcome'", "unique")


@pytest.mark.parametrize("key", ["my-field", "case.outcome", "_secret", "2nd", "class"])
def test_key_unusable_as_process_variable_is_a_definition_error(key: str):
    assert_definition_error(form_with({"type": "textfield", "key": key}), repr(key), "process variable")


def test_datetime_without_valid_subtype_is_a_definition_error():
    assert_definition_error(form_with({"type": "datetime", "key": "when", "subtype": "week"}), "'when'", "subtype")


def test_invalid_pattern_is_a_definition_error():
    assert_definition_error(form_with({"type": "textfield", "key": "ref", "validate": {"pattern": "(["}}), "'ref'", "pattern")


@pytest.mark.parametrize("rules", [{"min": "=limit"}, {"max": True}])
def test_non_numeric_min_or_max_is_a_definition_error(rules: dict[str, Any]):
    assert_definition_error(form_with({"type": "number", "key": "days", "validate": rules}), "'days'", "must be a number")


@pytest.mark.parametrize("length", [-1, 2.5])
def test_negative_or_fractional_length_is_a_definition_error(length: float):
    text = form_with({"type": "textfield", "key": "name", "validate": {"maxLength": length}})
    assert_definition_error(text, "'name'", "maxLength must be a whole number")


def test_phone_validation_type_is_a_definition_error():
    text = form_with({"type": "textfield", "key": "phone", "validate": {"validationType": "phone"}})
    assert_definition_error(text, "'phone'", "validationType 'phone'")


def test_group_with_data_path_is_a_definition_error():
    text = form_with({"type": "group", "path": "person", "components": [{"type": "textfield", "key": "name"}]})
    assert_definition_error(text, "components[0]", "group 'path'")


def test_conditional_visibility_is_a_definition_error():
    text = form_with({"type": "textfield", "key": "details", "conditional": {"hide": "=outcome = \"informal\""}})
    assert_definition_error(text, "'details'", "conditional")


# ---------------------------------------------------------------- validation


def test_valid_submission_returns_only_submitted_fields_and_checkbox_false(form):
    assert validate_submission(form, VALID) == {**VALID, "complainant_informed": False}


def test_required_fields_missing_or_blank_are_reported(form):
    errors = errors_of(form, {"outcome": "", "reasons": "   "})
    assert errors == {
        "outcome": ["Missing data for required field."],
        "reasons": ["Missing data for required field."],
    }


def test_blank_optional_fields_are_omitted_not_set_to_none(form):
    data = {**VALID, "officer_email": "", "days_allowed": "", "procedure": None, "measures": [], "referred_on": ""}
    assert validate_submission(form, data) == {**VALID, "complainant_informed": False}


def test_text_is_stripped_and_length_checked_after_stripping(form):
    assert validate_submission(form, {**VALID, "reasons": "  Ten chars!  "})["reasons"] == "Ten chars!"
    assert errors_of(form, {**VALID, "reasons": "  short     "})["reasons"][0].startswith("Length must be")
    assert "reasons" in errors_of(form, {**VALID, "reasons": "x" * 2001})


def test_pattern_must_match(form):
    assert validate_submission(form, {**VALID, "reference": "HSM-2026"})["reference"] == "HSM-2026"
    assert errors_of(form, {**VALID, "reference": "HSM-26"}) == {"reference": ["Must match the pattern ^HSM-[0-9]{4}$."]}


def test_pattern_is_searched_like_form_js_not_anchored():
    parsed = parse_form(form_with({"type": "textfield", "key": "code", "validate": {"pattern": "[0-9]+"}}), SOURCE)
    assert validate_submission(parsed, {"code": "ab12"}) == {"code": "ab12"}
    assert "code" in errors_of(parsed, {"code": "abc"})


def test_email_validation_type_rejects_non_addresses(form):
    assert validate_submission(form, {**VALID, "officer_email": "a.tutor@college.ox.ac.uk"})["officer_email"]
    assert errors_of(form, {**VALID, "officer_email": "not an email"}) == {"officer_email": ["Not a valid email address."]}


def test_number_from_html_string_becomes_int_or_float(form):
    cleaned = validate_submission(form, {**VALID, "days_allowed": "10", "fee": "12.50"})
    assert cleaned["days_allowed"] == 10 and type(cleaned["days_allowed"]) is int
    assert cleaned["fee"] == 12.5 and type(cleaned["fee"]) is float


def test_number_outside_min_max_is_reported(form):
    assert "days_allowed" in errors_of(form, {**VALID, "days_allowed": 0})
    assert "days_allowed" in errors_of(form, {**VALID, "days_allowed": "61"})
    assert validate_submission(form, {**VALID, "days_allowed": 60})["days_allowed"] == 60


def test_number_with_too_many_decimal_places_is_reported(form):
    errors = errors_of(form, {**VALID, "days_allowed": "2.5", "fee": 1.005})
    assert errors == {"days_allowed": ["Must be a whole number."], "fee": ["Must have at most 2 decimal places."]}


@pytest.mark.parametrize("value", ["three", True, "nan", [3]])
def test_non_numbers_are_rejected(form, value: Any):
    assert "days_allowed" in errors_of(form, {**VALID, "days_allowed": value})


@pytest.mark.parametrize(("submitted", "expected"), [("on", True), ("true", True), (True, True), ("false", False), ("", False)])
def test_checkbox_accepts_html_strings(form, submitted: Any, expected: bool):
    assert validate_submission(form, {**VALID, "complainant_informed": submitted})["complainant_informed"] is expected


def test_checkbox_rejects_unrecognised_value(form):
    assert errors_of(form, {**VALID, "complainant_informed": "maybe"}) == {"complainant_informed": ["Not a valid boolean."]}


def test_required_checkbox_must_be_ticked():
    parsed = parse_form(form_with({"type": "checkbox", "key": "confirmed", "validate": {"required": True}}), SOURCE)
    assert validate_submission(parsed, {"confirmed": "on"}) == {"confirmed": True}
    assert errors_of(parsed, {}) == {"confirmed": ["Missing data for required field."]}
    assert errors_of(parsed, {"confirmed": "false"}) == {"confirmed": ["Missing data for required field."]}


def test_radio_and_select_are_restricted_to_option_values_listed_in_the_message(form):
    errors = errors_of(form, {**VALID, "outcome": "expel", "procedure": "federal"})
    assert errors == {
        "outcome": ["Must be one of: investigate, informal, no_action."],
        "procedure": ["Must be one of: college, university."],
    }


def test_checklist_and_taglist_return_lists_of_option_values(form):
    cleaned = validate_submission(form, {**VALID, "measures": ["no_contact", "accommodation"], "copy_to": "master"})
    assert cleaned["measures"] == ["no_contact", "accommodation"]
    assert cleaned["copy_to"] == ["master"]


def test_checklist_drops_repeated_values(form):
    assert validate_submission(form, {**VALID, "measures": ["no_contact", "no_contact"]})["measures"] == ["no_contact"]


def test_checklist_rejects_values_outside_options_listing_allowed_values(form):
    errors = errors_of(form, {**VALID, "measures": ["no_contact", "curfew"]})
    assert errors == {"measures": ["One or more of the choices you made was not in: no_contact, accommodation."]}


def test_required_checklist_needs_at_least_one_value():
    options = [{"label": "A", "value": "a"}]
    parsed = parse_form(form_with({"type": "checklist", "key": "picked", "values": options, "validate": {"required": True}}), SOURCE)
    assert errors_of(parsed, {"picked": []}) == {"picked": ["Missing data for required field."]}


def test_unknown_submitted_keys_are_reported_under_their_own_key(form):
    errors = errors_of(form, {**VALID, "is_admin": "1", "notes": ""})
    assert errors == {"is_admin": ["Unknown field."], "notes": ["Unknown field."]}


def test_validation_error_message_names_the_form_and_fields(form):
    with pytest.raises(FormValidationError) as raised:
        validate_submission(form, {"outcome": "expel", "extra": 1})
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == "Invalid data for form 'college_initial_consideration' in: extra, outcome, reasons"


def test_date_is_returned_as_iso_date(form):
    assert validate_submission(form, {**VALID, "referred_on": "2026-01-31"})["referred_on"] == "2026-01-31"


@pytest.mark.parametrize("value", ["31/01/2026", "2026-02-30", "tomorrow"])
def test_invalid_date_is_reported(form, value: str):
    assert errors_of(form, {**VALID, "referred_on": value}) == {"referred_on": ["Not a valid date."]}


@pytest.mark.parametrize(("value", "expected"), [("09:15", "09:15"), ("14:30:59", "14:30"), ("14:30+01:00", "14:30")])
def test_time_is_returned_as_hours_and_minutes(form, value: str, expected: str):
    assert validate_submission(form, {**VALID, "meeting_time": value})["meeting_time"] == expected


def test_invalid_time_is_reported(form):
    assert errors_of(form, {**VALID, "meeting_time": "25:00"}) == {"meeting_time": ["Not a valid time."]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-31T14:30", "2026-01-31T14:30:00+00:00"),  # HTML datetime-local, London winter
        ("2026-07-01T14:30", "2026-07-01T14:30:00+01:00"),  # London summer time
        ("2026-07-01T14:30:00+02:00", "2026-07-01T14:30:00+02:00"),
        ("2026-07-01T12:00:00Z", "2026-07-01T12:00:00+00:00"),
    ],
)
def test_datetime_is_returned_as_iso_with_offset(form, value: str, expected: str):
    assert validate_submission(form, {**VALID, "meeting_at": value})["meeting_at"] == expected


def test_invalid_datetime_is_reported(form):
    assert errors_of(form, {**VALID, "meeting_at": "soon"}) == {"meeting_at": ["Not a valid datetime."]}


def test_full_submission_is_json_serialisable(form):
    data = {
        **VALID,
        "officer_email": "a.tutor@college.ox.ac.uk",
        "reference": "HSM-0042",
        "days_allowed": "10",
        "fee": "2.5",
        "complainant_informed": "on",
        "measures": ["no_contact"],
        "copy_to": ["senior_tutor", "master"],
        "procedure": "college",
        "referred_on": "2026-01-31",
        "meeting_time": "10:00",
        "meeting_at": "2026-02-02T10:00",
    }
    cleaned = validate_submission(form, data)
    assert json.loads(json.dumps(cleaned)) == cleaned
    assert set(cleaned) == set(data)


def test_schema_is_built_once_per_form(form):
    assert form_schema(form) is form_schema(form)
    assert form_schema(parse_form(MODELER_FORM, SOURCE)) is form_schema(form)
