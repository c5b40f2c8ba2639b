"""Deadlines counted the way the procedures count them, with a controlled clock."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from hsm_workflow.services import access, calendar_admin, cases, deployment, tasks
from hsm_workflow.services.notifications import deliver_outbox, queue_due_notifications
from hsm_workflow.services.timers import fire_all_due
from hsm_workflow.mail import FileMailer
from conftest import FIXTURES, TESTER, as_user


@pytest.fixture
def deployed(runtime):
    deployment.deploy(runtime, deployment.read_bpmn([FIXTURES / "processes"]), by="tester")
    return runtime


def start(runtime, received_on):
    return cases.start_case(runtime, as_user(runtime, "caseworker"), "deadline_probe", {"received_on": received_on}).reference


def open_tasks(runtime, reference):
    return {t.element: t for t in access.case_file(runtime, TESTER, reference).tasks if t.status == "open"}


def complete(runtime, reference, element, user, data=None):
    tasks.complete(runtime, as_user(runtime, user), open_tasks(runtime, reference)[element].id, data or {})


def test_ten_working_days_skip_easter_bank_holidays(deployed):
    reference = start(deployed, "2026-04-01")
    assert open_tasks(deployed, reference)["Consider"].due_on == date(2026, 4, 17)


def test_ten_working_days_skip_christmas_bank_holidays_and_closure_days(deployed):
    for day in ("2026-12-24", "2026-12-29", "2026-12-30", "2026-12-31"):
        calendar_admin.add_closure_day(deployed, date.fromisoformat(day), "Christmas closure")
    reference = start(deployed, "2026-12-21")
    assert open_tasks(deployed, reference)["Consider"].due_on == date(2027, 1, 13)


def test_calendar_month_review_from_31_january_falls_on_28_february(deployed):
    reference = start(deployed, "2026-01-05")
    complete(deployed, reference, "Consider", "senior_tutor", {"imposed_on": "2026-01-31"})
    assert open_tasks(deployed, reference)["MonthlyReview"].due_on == date(2026, 2, 28)


def test_a_task_due_after_the_clocks_go_forward_is_overdue_from_london_midnight(deployed):
    from hsm_workflow.db.models import Task
    from sqlalchemy import select
    start(deployed, "2026-03-16")  # + 10 working days = Monday 30 March, the first BST working day
    with deployed.reading() as session:
        [task] = session.scalars(select(Task)).all()
        assert task.due_on == date(2026, 3, 30)
        assert task.due_at == datetime(2026, 3, 30, 23, 0, tzinfo=timezone.utc)


def test_reminder_and_escalation_are_each_sent_once(deployed, clock, settings):
    reference = start(deployed, "2026-01-05")  # due Monday 19 January; reminder Thursday 15th
    mailer = FileMailer(settings.mail_file)
    clock.set(datetime(2026, 1, 14, 12, tzinfo=timezone.utc))
    assert queue_due_notifications(deployed) == 0
    clock.set(datetime(2026, 1, 15, 0, 1, tzinfo=timezone.utc))
    assert queue_due_notifications(deployed) == 1  # the senior tutor
    assert queue_due_notifications(deployed) == 0
    assert deliver_outbox(deployed, mailer) == 1 and deliver_outbox(deployed, mailer) == 0
    clock.set(datetime(2026, 1, 20, 0, 1, tzinfo=timezone.utc))
    assert queue_due_notifications(deployed) == 1  # escalated to the master
    assert queue_due_notifications(deployed) == 0
    assert deliver_outbox(deployed, mailer) == 1
    text = settings.mail_file.read_text()
    assert text.count("To: senior_tutor@example.ac.uk") == 1 and text.count("To: master@example.ac.uk") == 1
    assert "Overdue: Consider the complaint (HSM-2026-0001) was due on 19 January 2026" in text
    summaries = [e.summary for e in access.case_file(deployed, TESTER, reference).events]
    assert "Escalation sent for Consider the complaint to master" in summaries


def test_a_failed_send_is_kept_and_retried(deployed, clock):
    start(deployed, "2026-01-05")
    clock.set(datetime(2026, 1, 15, 1, tzinfo=timezone.utc))
    queue_due_notifications(deployed)

    class Down:
        def send(self, *_):
            raise OSError("connection refused")

    sent = []

    class Up:
        def send(self, recipient, subject, body):
            sent.append(recipient)

    assert deliver_outbox(deployed, Down()) == 0
    assert deliver_outbox(deployed, Up()) == 0  # backing off
    clock.advance(timedelta(minutes=2))
    assert deliver_outbox(deployed, Up()) == 1 and sent == ["senior_tutor@example.ac.uk"]


def test_a_police_pause_is_left_out_of_the_case_clock(deployed, clock):
    reference = start(deployed, "2026-01-05")
    complete(deployed, reference, "Consider", "senior_tutor", {"imposed_on": "2026-01-05"})
    complete(deployed, reference, "MonthlyReview", "senior_tutor")
    clock.advance(timedelta(days=10))
    cases.deliver_message(deployed, TESTER, reference, "police_report_made", {}, reason="test")
    clock.advance(timedelta(days=30))
    cases.deliver_message(deployed, TESTER, reference, "police_proceedings_concluded", {}, reason="test")
    clock.advance(timedelta(days=5))
    report = calendar_admin.case_clock(deployed, reference)
    assert (report.elapsed_days, report.elapsed_excluding_pauses) == (45, 15)
    assert [(p.reason, p.start, p.end) for p in report.pauses] == [
        ("Police investigation", date(2026, 1, 15), date(2026, 2, 14))]


def test_after_downtime_a_repeating_timer_fires_once_not_a_pile(deployed, clock):
    reference = start(deployed, "2026-01-05")
    complete(deployed, reference, "Consider", "senior_tutor", {"imposed_on": "2026-01-05"})
    complete(deployed, reference, "MonthlyReview", "senior_tutor")
    cases.deliver_message(deployed, TESTER, reference, "police_report_made", {}, reason="test")
    cases.deliver_message(deployed, TESTER, reference, "police_proceedings_concluded", {}, reason="test")
    clock.advance(timedelta(days=50))  # seven weekly occurrences missed while the scheduler was down
    assert fire_all_due(deployed) == 1
    assert list(open_tasks(deployed, reference)).count("WeeklyCheck") == 1
    [timer] = [t for t in access.case_file(deployed, TESTER, reference).timers if t.status == "pending"]
    assert timer.due_at.isoformat() == "2026-03-02T09:00:00+00:00"  # the next occurrence after now
