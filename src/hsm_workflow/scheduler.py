"""The scheduler entry point: APScheduler is only the trigger; the timers table is the truth."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .errors import Conflict
from .mail import mailer_for
from .services.notifications import deliver_outbox, queue_due_notifications
from .services.runtime import Runtime
from .services.timers import fire_all_due, next_due

log = logging.getLogger(__name__)
SWEEP_SECONDS = 1.0
JOB_ID = "sweep"


def sweep(runtime: Runtime) -> None:
    """One pass: fire due timers, queue reminders and escalations, send the outbox.

    A lost race with another scheduler (:class:`Conflict`) is left for the next pass.
    """
    try:
        _sweep(runtime)
    except Conflict as error:
        log.info("sweep deferred: %s", error)


def _sweep(runtime: Runtime) -> None:
    fired = fire_all_due(runtime)
    queued = queue_due_notifications(runtime)
    sent = deliver_outbox(runtime, mailer_for(runtime.settings))
    if fired or queued or sent:
        log.info("fired %d timers, queued %d notifications, sent %d", fired, queued, sent)


def run_until_idle(runtime: Runtime) -> int:
    """Sweep until nothing is due (catch-up at start, tests, cron-style use); timers fired."""
    total = 0
    while True:
        try:
            fired = fire_all_due(runtime)
            total += fired
            if not fired and not queue_due_notifications(runtime):
                break
        except Conflict as error:
            log.info("retrying after a lost race: %s", error)
    deliver_outbox(runtime, mailer_for(runtime.settings))
    return total


class _Sweeper:
    """The one job: a sweep every second, and one at the next due instant the database knows of.

    A timer due at 10:00:00.300 fires then, not at the next whole sweep: after each pass the
    job's next run is brought forward to the earliest pending timer due before it. Timers
    already due but not fired (another scheduler holds their case) wait for the interval.
    """

    def __init__(self, runtime: Runtime, scheduler: BaseScheduler):
        self.runtime, self.scheduler = runtime, scheduler

    def __call__(self) -> None:
        sweep(self.runtime)
        due = next_due(self.runtime)
        job = self.scheduler.get_job(JOB_ID)
        if due is not None and job is not None and job.next_run_time is not None and due < job.next_run_time:
            job.modify(next_run_time=due)


def _configure(scheduler: BaseScheduler, runtime: Runtime) -> None:
    """One job: a sweep now (catch-up after downtime), then every second and at each due instant.

    APScheduler 3 reads ``next_run_time=None`` as *paused*: the first run is given explicitly.
    """
    scheduler.add_job(_Sweeper(runtime, scheduler), "interval", id=JOB_ID, name="sweep", seconds=SWEEP_SECONDS,
                      max_instances=1, coalesce=True, misfire_grace_time=None,
                      next_run_time=datetime.now(timezone.utc))
def start_background(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    _configure(scheduler, runtime)
    scheduler.start()
    return scheduler


def run_forever(runtime: Runtime) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    _configure(scheduler, runtime)
    scheduler.start()
