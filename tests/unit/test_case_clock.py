"""Student disciplinary targets count calendar days excluding pauses (001)."""
from datetime import date

from hsm_workflow.domain.case_clock import Pause, Target, elapsed, target_date

NINETY = Target("Whole procedure", 90)


def test_a_closed_pause_moves_the_target_by_its_length():
    pauses = [Pause("Police investigation", date(2026, 2, 1), date(2026, 3, 3))]
    assert target_date(date(2026, 1, 5), NINETY, pauses, date(2026, 4, 1)) == date(2026, 5, 5)
    assert elapsed(date(2026, 1, 5), date(2026, 4, 1), pauses) == (86, 56)


def test_while_paused_the_target_has_no_date_and_the_clock_stands_still():
    pauses = [Pause("Fitness to Study first", date(2026, 2, 1), None)]
    assert target_date(date(2026, 1, 5), NINETY, pauses, date(2026, 3, 1)) is None
    assert elapsed(date(2026, 1, 5), date(2026, 3, 1), pauses) == (55, 27)
