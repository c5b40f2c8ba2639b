"""Reminders and escalations reach a real SMTP server from the served product, once each,
however many sweeps follow."""
from __future__ import annotations

import time

from sqlalchemy import select

from hsm_workflow.db.models import Notification
from hsm_workflow.scheduler import SWEEP_SECONDS

from .conftest import wait_for

LATER_SWEEPS = 4


def test_a_reminder_and_an_escalation_each_reach_smtp_exactly_once(serve, smtp_listener):
    app = serve(extra_env=smtp_listener.env)
    # Due the day after a report received in 2020: overdue (and past its reminder) as it opens.
    reference = app.start_case("live_overdue_task", {"received_on": "2020-01-06", "complainant": "Alex Example"},
                               unit="downing")

    def both_arrived():
        subjects = [mail.subject for mail in smtp_listener.received()]
        return any(s.startswith("Reminder:") for s in subjects) and any(s.startswith("Overdue:") for s in subjects)

    wait_for(both_arrived, timeout=15, failure=lambda: f"{smtp_listener.received()}\n{app.processes.logs()}")
    time.sleep(LATER_SWEEPS * SWEEP_SECONDS)  # the scheduler keeps sweeping: nothing may be sent again

    mails = sorted(smtp_listener.received(), key=lambda mail: mail.subject)
    assert [(mail.subject.split(":")[0], mail.recipients) for mail in mails] == [
        ("Overdue", ("master@example.ac.uk",)),
        ("Reminder", ("senior_tutor@example.ac.uk",)),
    ], f"{mails}\n{app.processes.logs()}"
    for mail in mails:
        assert f"({reference})" in mail.subject and "Consider the report" in mail.subject, mail
        assert "Alex Example" not in mail.subject + mail.body, "case details stay out of e-mail"
    with app.database.reading() as session:
        rows = session.execute(select(Notification.kind, Notification.recipient, Notification.status)
                               .order_by(Notification.kind)).all()
    assert [tuple(row) for row in rows] == [("escalation", "master@example.ac.uk", "sent"),
                                            ("reminder", "senior_tutor@example.ac.uk", "sent")]
    kinds = [event["kind"] for event in app.case(reference)["events"]]
    assert kinds.count("reminder") == 1 and kinds.count("escalation") == 1, kinds
