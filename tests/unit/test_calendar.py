from datetime import date, datetime, timedelta, timezone

import pytest

from hsm_workflow.domain.calendar import (
    LONDON,
    WorkingCalendar,
    add_calendar_months,
    end_of_day,
    local_date,
    parse_date,
    start_of_day,
)

CHRISTMAS_CLOSURE_2026 = [date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# Working days


def test_weekdays_are_working_days_and_weekends_are_not():
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2026, 1, 9))  # Friday
    assert not calendar.is_working_day(date(2026, 1, 10))  # Saturday
    assert not calendar.is_working_day(date(2026, 1, 11))  # Sunday
    assert calendar.is_working_day(date(2026, 1, 12))  # Monday


def test_england_bank_holidays_2026_are_not_working_days():
    calendar = WorkingCalendar()
    for bank_holiday in [
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),  # Early May bank holiday
        date(2026, 5, 25),  # Spring bank holiday
        date(2026, 8, 31),  # Summer bank holiday
        date(2026, 12, 25),
        date(2026, 12, 28),  # Boxing Day substitute: 26 Dec 2026 is a Saturday
    ]:
        assert not calendar.is_working_day(bank_holiday), bank_holiday


def test_scottish_only_bank_holidays_are_working_days():
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2026, 1, 2))  # 2 January (Scotland only)
    assert calendar.is_working_day(date(2026, 8, 3))  # Summer bank holiday in Scotland


def test_closure_days_are_not_working_days():
    calendar = WorkingCalendar(CHRISTMAS_CLOSURE_2026)
    assert not calendar.is_working_day(date(2026, 12, 24))
    assert not calendar.is_working_day(date(2026, 12, 31))
    assert calendar.is_working_day(date(2026, 12, 23))
    assert WorkingCalendar().is_working_day(date(2026, 12, 24))


def test_closure_days_property_returns_the_given_days():
    calendar = WorkingCalendar(CHRISTMAS_CLOSURE_2026)
    assert calendar.closure_days == frozenset(CHRISTMAS_CLOSURE_2026)
    assert WorkingCalendar().closure_days == frozenset()


def test_add_zero_working_days_returns_start_even_on_a_weekend():
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2026, 1, 10), 0) == date(2026, 1, 10)


def test_first_working_day_after_friday_is_monday():
    assert WorkingCalendar().add_working_days(date(2026, 1, 9), 1) == date(2026, 1, 12)


def test_counting_from_a_saturday_starts_on_monday():
    assert WorkingCalendar().add_working_days(date(2026, 1, 10), 1) == date(2026, 1, 12)


def test_ten_working_days_across_easter_2026_skip_good_friday_and_easter_monday():
    # From Wed 1 Apr: 2, 7, 8, 9, 10, 13, 14, 15, 16, 17 April.
    assert WorkingCalendar().add_working_days(date(2026, 4, 1), 10) == date(2026, 4, 17)


def test_ten_working_days_across_christmas_2026_without_closure():
    # From Mon 21 Dec: 22, 23, 24, 29, 30, 31 Dec, then 4, 5, 6, 7 Jan (1 Jan is a bank holiday).
    assert WorkingCalendar().add_working_days(date(2026, 12, 21), 10) == date(2027, 1, 7)


def test_ten_working_days_across_christmas_2026_with_closure():
    # From Mon 21 Dec: 22, 23 Dec, then 4, 5, 6, 7, 8, 11, 12, 13 Jan.
    calendar = WorkingCalendar(CHRISTMAS_CLOSURE_2026)
    assert calendar.add_working_days(date(2026, 12, 21), 10) == date(2027, 1, 13)


def test_working_days_across_the_early_may_bank_holiday_2026():
    # From Fri 1 May: Mon 4 May is a bank holiday, so 5, 6, 7, 8, 11 May.
    assert WorkingCalendar().add_working_days(date(2026, 5, 1), 5) == date(2026, 5, 11)


def test_working_day_after_the_spring_bank_holiday_weekend_2026_is_tuesday():
    assert WorkingCalendar().add_working_days(date(2026, 5, 22), 1) == date(2026, 5, 26)


def test_working_day_after_the_spring_bank_holiday_weekend_2027_is_tuesday():
    # Spring bank holiday 2027 is Mon 31 May.
    assert WorkingCalendar().add_working_days(date(2027, 5, 28), 1) == date(2027, 6, 1)


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError, match="n must be >= 0"):
        WorkingCalendar().add_working_days(date(2026, 1, 9), -1)


def test_a_datetime_is_refused_where_a_date_is_expected():
    with pytest.raises(TypeError, match="expected a date"):
        WorkingCalendar().is_working_day(datetime(2026, 1, 9, 12, 0))


# Working days between


def test_working_days_between_the_same_day_is_zero():
    assert WorkingCalendar().working_days_between(date(2026, 1, 9), date(2026, 1, 9)) == 0


def test_working_days_between_friday_and_monday_is_one_either_way():
    calendar = WorkingCalendar()
    assert calendar.working_days_between(date(2026, 1, 9), date(2026, 1, 12)) == 1
    assert calendar.working_days_between(date(2026, 1, 12), date(2026, 1, 9)) == -1


def test_working_days_between_saturday_and_sunday_is_zero_either_way():
    calendar = WorkingCalendar()
    assert calendar.working_days_between(date(2026, 1, 10), date(2026, 1, 11)) == 0
    assert calendar.working_days_between(date(2026, 1, 11), date(2026, 1, 10)) == 0


def test_working_days_between_across_easter_2026_is_symmetric():
    calendar = WorkingCalendar()
    assert calendar.working_days_between(date(2026, 4, 1), date(2026, 4, 17)) == 10
    assert calendar.working_days_between(date(2026, 4, 17), date(2026, 4, 1)) == -10


def test_working_days_between_across_christmas_2026_with_closure_is_symmetric():
    calendar = WorkingCalendar(CHRISTMAS_CLOSURE_2026)
    assert calendar.working_days_between(date(2026, 12, 21), date(2027, 1, 13)) == 10
    assert calendar.working_days_between(date(2027, 1, 13), date(2026, 12, 21)) == -10


def test_working_days_between_over_the_whole_christmas_closure_is_zero():
    # Wed 23 Dec 2026 to Sun 3 Jan 2027: every day is a closure, bank holiday or weekend.
    calendar = WorkingCalendar(CHRISTMAS_CLOSURE_2026)
    assert calendar.working_days_between(date(2026, 12, 23), date(2027, 1, 3)) == 0


# Calendar months


def test_one_calendar_month_from_31_january_2026_is_28_february():
    assert add_calendar_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_one_calendar_month_from_31_january_2028_is_29_february_in_a_leap_year():
    assert add_calendar_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


def test_two_calendar_months_from_31_january_is_31_march_counted_from_the_original_date():
    assert add_calendar_months(date(2026, 1, 31), 2) == date(2026, 3, 31)
    # Chaining one month at a time would lose the 31st: 31 Jan -> 28 Feb -> 28 Mar.
    assert add_calendar_months(add_calendar_months(date(2026, 1, 31), 1), 1) == date(2026, 3, 28)


def test_calendar_months_clamp_to_a_30_day_month_and_cross_the_year():
    assert add_calendar_months(date(2026, 3, 31), 1) == date(2026, 4, 30)
    assert add_calendar_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


# Day boundaries in Europe/London


def test_end_of_a_winter_day_is_midnight_utc():
    assert end_of_day(date(2026, 1, 15)) == utc(2026, 1, 16, 0, 0)


def test_end_of_a_summer_day_is_23_00_utc_the_same_day():
    assert end_of_day(date(2026, 7, 1)) == utc(2026, 7, 1, 23, 0)


def test_start_and_end_of_day_are_utc():
    assert start_of_day(date(2026, 7, 1)).tzinfo == timezone.utc
    assert end_of_day(date(2026, 7, 1)).tzinfo == timezone.utc


def test_the_day_clocks_go_forward_29_march_2026_lasts_23_hours():
    assert start_of_day(date(2026, 3, 29)) == utc(2026, 3, 29, 0, 0)
    assert end_of_day(date(2026, 3, 29)) == utc(2026, 3, 29, 23, 0)
    assert end_of_day(date(2026, 3, 29)) - start_of_day(date(2026, 3, 29)) == timedelta(hours=23)


def test_the_day_clocks_go_back_25_october_2026_lasts_25_hours():
    assert start_of_day(date(2026, 10, 25)) == utc(2026, 10, 24, 23, 0)
    assert end_of_day(date(2026, 10, 25)) == utc(2026, 10, 26, 0, 0)
    assert end_of_day(date(2026, 10, 25)) - start_of_day(date(2026, 10, 25)) == timedelta(hours=25)


def test_a_task_due_on_29_march_2026_is_overdue_from_23_00_utc():
    due = end_of_day(date(2026, 3, 29))
    assert utc(2026, 3, 29, 22, 59, 59) < due
    assert utc(2026, 3, 29, 23, 0) >= due


def test_local_date_of_a_late_summer_evening_in_utc_is_the_next_london_day():
    assert local_date(utc(2026, 6, 30, 23, 30)) == date(2026, 7, 1)


def test_local_date_of_a_late_winter_evening_in_utc_is_the_same_day():
    assert local_date(utc(2026, 1, 31, 23, 30)) == date(2026, 1, 31)


def test_local_date_around_the_clock_changes_2026():
    assert local_date(utc(2026, 3, 28, 23, 30)) == date(2026, 3, 28)  # still GMT
    assert local_date(utc(2026, 3, 29, 23, 30)) == date(2026, 3, 30)  # BST
    assert local_date(utc(2026, 10, 24, 23, 30)) == date(2026, 10, 25)  # still BST
    assert local_date(utc(2026, 10, 25, 23, 30)) == date(2026, 10, 25)  # GMT again


def test_local_date_accepts_any_time_zone():
    assert local_date(datetime(2026, 7, 1, 8, 0, tzinfo=LONDON)) == date(2026, 7, 1)
    assert local_date(datetime(2026, 7, 2, 6, 0, tzinfo=timezone(timedelta(hours=9)))) == date(2026, 7, 1)


def test_local_date_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware datetime"):
        local_date(datetime(2026, 7, 1, 12, 0))


# Parsing dates


def test_parse_date_reads_an_iso_date():
    assert parse_date("2026-01-31") == date(2026, 1, 31)


def test_parse_date_reads_an_iso_datetime_with_offset_as_the_london_date():
    assert parse_date("2026-01-31T10:00:00+00:00") == date(2026, 1, 31)
    assert parse_date("2026-06-30T23:30:00+00:00") == date(2026, 7, 1)
    assert parse_date("2026-06-30T23:30:00Z") == date(2026, 7, 1)


def test_parse_date_reads_a_naive_iso_datetime_as_london_time():
    assert parse_date("2026-06-30T23:30:00") == date(2026, 6, 30)


def test_parse_date_passes_dates_through_and_converts_datetimes():
    assert parse_date(date(2026, 1, 31)) == date(2026, 1, 31)
    assert parse_date(utc(2026, 6, 30, 23, 30)) == date(2026, 7, 1)
    assert parse_date(datetime(2026, 6, 30, 23, 30)) == date(2026, 6, 30)


@pytest.mark.parametrize("value", ["31/01/2026", "", "tomorrow", "2026-02-30", None, 20260131])
def test_parse_date_refuses_anything_else_with_a_clear_message(value):
    with pytest.raises(ValueError, match=r"expected an ISO date \(2026-01-31\) or date-time") as excinfo:
        parse_date(value)
    assert repr(value) in str(excinfo.value)
