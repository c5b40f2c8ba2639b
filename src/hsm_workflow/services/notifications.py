"""Reminders before a task falls due, escalations when it is overdue, and the outbox.

Notifications are rows first (created in the same transaction that decides them, unique
per task, kind and recipient, so each is sent once) and mail second: a failed send is
retried with back-off and never lost.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..db.models import Case, Notification, Task, User
from ..mail import Mailer
from .directory import candidates
from ..domain.status import TaskStatus
from .progress import record
from .runtime import Runtime

REMINDER, ESCALATION = "reminder", "escalation"
PENDING, SENT, UNDELIVERABLE = "pending", "sent", "undeliverable"
MAX_BACKOFF = timedelta(hours=1)


def _recipients(session: Session, task: Task, roles: list[str]) -> list[User]:
    users = {u.id: u for role in roles for u in candidates(session, role, task.unit_id)}
    if task.claimed_by is not None:
        users[task.claimed_by.id] = task.claimed_by
    return [u for u in users.values() if u.email]


def _queue(session: Session, runtime: Runtime, task: Task, kind: str, users: list[User]) -> int:
    now = runtime.clock.now()
    due = task.due_on.strftime("%d %B %Y") if task.due_on else "-"
    subject = (f"Reminder: {task.name} ({task.case.reference}) is due on {due}" if kind == REMINDER
               else f"Overdue: {task.name} ({task.case.reference}) was due on {due}")
    body = (f"Case {task.case.reference}: the task '{task.name}' for the role {task.role} "
            f"{'is due on' if kind == REMINDER else 'was due on'} {due}.\n"
            "Details are in hsm-workflow (case details are not sent by e-mail).")
    for user in users:
        session.add(Notification(case_id=task.case_id, task_id=task.id, kind=kind, recipient=user.email,
                                 subject=subject, body=body, status=PENDING, attempts=0, next_attempt_at=now))
    if not users:  # recorded, so that it is decided once and an administrator can see it
        session.add(Notification(case_id=task.case_id, task_id=task.id, kind=kind, recipient="", subject=subject,
                                 body=body, status=UNDELIVERABLE, attempts=0, next_attempt_at=now))
    record(session, task.case, now, "scheduler", kind,
           f"{kind.capitalize()} sent for {task.name} to {', '.join(sorted(u.username for u in users)) or 'nobody'}")
    return len(users)


def queue_due_notifications(runtime: Runtime, limit: int = 200) -> int:
    """Queue reminders and escalations that are due and not yet queued; returns how many."""
    queued = 0
    with runtime.transaction() as session:
        now = runtime.clock.now()
        for kind, moment, roles_of in ((REMINDER, Task.remind_at, lambda t: [t.role]),
                                       (ESCALATION, Task.due_at, lambda t: t.escalate_to.split() or [t.role])):
            already = exists().where(Notification.task_id == Task.id, Notification.kind == kind)
            query = select(Task).join(Case).where(
                Task.status == TaskStatus.OPEN, Case.status == "running", moment.is_not(None), moment <= now,
                ~already).order_by(Task.id).limit(limit)
            if session.bind.dialect.name == "postgresql":  # several schedulers: each task decided by one
                query = query.with_for_update(skip_locked=True, of=Task)
            rows = session.scalars(query).all()
            for task in rows:
                queued += _queue(session, runtime, task, kind, _recipients(session, task, roles_of(task)))
    return queued


def deliver_outbox(runtime: Runtime, mailer: Mailer, limit: int = 100) -> int:
    """Send pending notifications; failures are retried later with back-off."""
    sent = 0
    with runtime.transaction() as session:
        now = runtime.clock.now()
        query = select(Notification).where(Notification.status == PENDING, Notification.next_attempt_at <= now) \
            .order_by(Notification.id).limit(limit)
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for note in session.scalars(query):
            try:
                mailer.send(note.recipient, note.subject, note.body)
            except Exception as error:  # any transport failure: keep it and retry later
                note.attempts += 1
                note.last_error = str(error)[:1000]
                note.next_attempt_at = now + min(timedelta(seconds=30 * 2 ** note.attempts), MAX_BACKOFF)
                continue
            note.status, note.sent_at = SENT, now
            sent += 1
    return sent
