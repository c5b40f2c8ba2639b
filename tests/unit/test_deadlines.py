from datetime import date, datetime, timezone

import pytest

from hsm_workflow.domain.calendar import WorkingCalendar
from hsm_workflow.domain.deadlines import Deadline, DeadlineSyntaxError, Reminder, start_date

CHRISTMAS_CLOSURE_2026 = [date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]


# Parsing deadlines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10 working days", Deadline(10, "working_days", None)),
        ("1 working day", Deadline(1, "working_days", None)),
        ("20 working days from referred_on", Deadline(20, "working_days", "referred_on")),
        ("14 days from decision_notified_on", Deadline(14, "days", "decision_notified_on")),
        ("1 day", Deadline(1, "days", None)),
        ("2 weeks", Deadline(2, "weeks", None)),
        ("1 week from hearing_on", Deadline(1, "weeks", "hearing_on")),
        ("1 calendar month", Deadline(1, "calendar_months", None)),
        ("3 calendar months from restriction_imposed_on", Deadline(3, "calendar_months", "restriction_imposed_on")),
    ],
)
def test_deadline_parses_each_accepted_form(text, expected):
    assert Deadline.parse(text) == expected


def test_deadline_month_means_calendar_month():
    assert Deadline.parse("1 month") == Deadline(1, "calendar_months", None)
    assert Deadline.parse("6 months") == Deadline(6, "calendar_months", None)


def test_deadline_parse_ignores_case_and_extra_spaces_but_keeps_the_variable_name():
    assert Deadline.parse("  10   WORKING   Days   From   Referred_On ") == Deadline(10, "working_days", "Referred_On")
    assert Deadline.parse("1 Calendar\tMonth") == Deadline(1, "calendar_months", None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ten working days",
        "10",
        "10 fortnights",
        "-1 days",
        "1.5 days",
        "10 working days after referred_on",
        "10 working days from",
        "10 working days from referred on",
        "10 workingdays",
        "P10D",
    ],
)
def test_deadline_parse_refuses_invalid_text_quoting_it_and_showing_the_accepted_forms(text):
    with pytest.raises(DeadlineSyntaxError) as excinfo:
        Deadline.parse(text)
    message = str(excinfo.value)
    assert repr(text) in message
    assert "<N> working days|days|weeks|calendar months [from <variable>]" in message


def test_deadline_syntax_error_is_a_value_error():
    with pytest.raises(ValueError):
        Deadline.parse("soon")


def test_deadline_refuses_an_unknown_unit_when_built_directly():
    with pytest.raises(ValueError, match="unit must be one of"):
        Deadline(1, "fortnights", None)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("  10   WORKING   Days ", "10 working days"),
        ("1 Working Days", "1 working day"),
        ("3 months", "3 calendar months"),
        ("1 Month From restriction_imposed_on", "1 calendar month from restriction_imposed_on"),
        ("14 DAYS from decision_notified_on", "14 days from decision_notified_on"),
        ("1 weeks", "1 week"),
    ],
)
def test_deadline_str_gives_canonical_text_that_parses_back_to_the_same_deadline(text, canonical):
    deadline = Deadline.parse(text)
    assert str(deadline) == canonical
    assert Deadline.parse(canonical) == deadline


# Due dates


def test_ten_working_days_from_1_april_2026_is_17_april_across_easter():
    assert Deadline.parse("10 working days").due_on(date(2026, 4, 1), WorkingCalendar()) == date(2026, 4, 17)


def test_ten_working_days_from_21_december_2026_is_13_january_with_the_christmas_closure():
    calendar = WorkingCalendar(CHRISTMAS_CLOSURE_2026)
    assert Deadline.parse("10 working days").due_on(date(2026, 12, 21), calendar) == date(2027, 1, 13)


def test_days_count_every_calendar_day():
    assert Deadline.parse("14 days").due_on(date(2026, 1, 31), WorkingCalendar()) == date(2026, 2, 14)
    # 21 days from Fri 18 Dec 2026 lands on Fri 8 Jan 2027, holidays included.
    assert Deadline.parse("21 days").due_on(date(2026, 12, 18), WorkingCalendar()) == date(2027, 1, 8)


def test_weeks_count_seven_calendar_days_each():
    assert Deadline.parse("2 weeks").due_on(date(2026, 12, 23), WorkingCalendar()) == date(2027, 1, 6)


def test_one_calendar_month_from_31_january_2028_is_29_february():
    assert Deadline.parse("1 calendar month").due_on(date(2028, 1, 31), WorkingCalendar()) == date(2028, 2, 29)


def test_two_calendar_months_from_31_january_2026_is_31_march():
    assert Deadline.parse("2 months").due_on(date(2026, 1, 31), WorkingCalendar()) == date(2026, 3, 31)


# Start dates


def test_start_date_without_from_is_the_london_date_the_task_opened():
    opened_at = datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)  # 00:30 BST on 1 July
    assert start_date(Deadline.parse("10 working days"), {}, opened_at) == date(2026, 7, 1)


def test_start_date_with_from_reads_the_variable_as_an_iso_date():
    opened_at = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
    variables = {"referred_on": "2026-04-01"}
    deadline = Deadline.parse("20 working days from referred_on")
    assert start_date(deadline, variables, opened_at) == date(2026, 4, 1)


def test_start_date_with_from_reads_a_datetime_variable_as_the_london_date():
    opened_at = datetime(2026, 8, 1, 9, 0, tzinfo=timezone.utc)
    variables = {"decision_notified_on": "2026-06-30T23:30:00+00:00"}
    deadline = Deadline.parse("14 days from decision_notified_on")
    assert start_date(deadline, variables, opened_at) == date(2026, 7, 1)


def test_start_date_with_a_missing_variable_names_the_variable():
    opened_at = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
    deadline = Deadline.parse("20 working days from referred_on")
    with pytest.raises(DeadlineSyntaxError, match="'referred_on'.*not set"):
        start_date(deadline, {"outcome": "investigate"}, opened_at)


def test_start_date_with_a_variable_that_is_not_a_date_names_the_variable_and_value():
    opened_at = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
    deadline = Deadline.parse("20 working days from referred_on")
    with pytest.raises(ValueError, match=r"variable 'referred_on': expected an ISO date.*'last week'"):
        start_date(deadline, {"referred_on": "last week"}, opened_at)


# Reminders


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 working days before", Reminder(2, "working_days")),
        ("1 working day before", Reminder(1, "working_days")),
        ("3 days before", Reminder(3, "days")),
        ("  1   Day   BEFORE ", Reminder(1, "days")),
    ],
)
def test_reminder_parses_each_accepted_form(text, expected):
    assert Reminder.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["", "2 working days", "2 weeks before", "1 calendar month before", "2 working days after", "two days before"]
)
def test_reminder_parse_refuses_invalid_text_quoting_it_and_showing_the_accepted_forms(text):
    with pytest.raises(DeadlineSyntaxError) as excinfo:
        Reminder.parse(text)
    message = str(excinfo.value)
    assert repr(text) in message
    assert "<N> working days|days before" in message


def test_reminder_str_gives_canonical_text():
    assert str(Reminder.parse("2 WORKING days  before")) == "2 working days before"
    assert str(Reminder.parse("1 days before")) == "1 day before"


def test_reminder_in_working_days_counts_back_over_a_weekend():
    # Due Mon 12 Jan 2026: Fri 9 Jan is one working day before, Thu 8 Jan two.
    calendar = WorkingCalendar()
    assert Reminder.parse("1 working day before").remind_on(date(2026, 1, 12), calendar) == date(2026, 1, 9)
    assert Reminder.parse("2 working days before").remind_on(date(2026, 1, 12), calendar) == date(2026, 1, 8)


def test_reminder_in_days_counts_back_calendar_days_onto_a_weekend():
    assert Reminder.parse("2 days before").remind_on(date(2026, 1, 12), WorkingCalendar()) == date(2026, 1, 10)


def test_reminder_in_working_days_counts_back_over_easter_2026():
    # Due Tue 7 Apr: Easter Monday, the weekend and Good Friday are skipped -> Thu 2, Wed 1 Apr.
    reminder = Reminder.parse("2 working days before")
    assert reminder.remind_on(date(2026, 4, 7), WorkingCalendar()) == date(2026, 4, 1)


def test_reminder_in_working_days_counts_back_over_the_christmas_closure_2026():
    # Due Mon 4 Jan 2027: 1 Jan, 31-29 Dec, 28 Dec, 25 Dec and 24 Dec are all non-working -> Wed 23 Dec.
    reminder = Reminder.parse("1 working day before")
    assert reminder.remind_on(date(2027, 1, 4), WorkingCalendar(CHRISTMAS_CLOSURE_2026)) == date(2026, 12, 23)


def test_zero_working_days_before_is_the_due_date():
    assert Reminder.parse("0 working days before").remind_on(date(2026, 1, 12), WorkingCalendar()) == date(2026, 1, 12)
