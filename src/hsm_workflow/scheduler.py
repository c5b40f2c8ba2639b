"""The scheduler entry point: APScheduler is only the trigger; the timers table is the truth."""
from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .services.runtime import Runtime
from .services.timers import fire_all_due

log = logging.getLogger(__name__)
SWEEP_SECONDS = 1.0


def sweep(runtime: Runtime) -> None:
    fired = fire_all_due(runtime)
    if fired:
        log.info("fired %d timers", fired)


def _configure(scheduler, runtime: Runtime) -> None:
    scheduler.add_job(sweep, "interval", args=[runtime], seconds=SWEEP_SECONDS, max_instances=1,
                      coalesce=True, next_run_time=None)
    scheduler.add_job(sweep, args=[runtime])  # catch up at start


def start_background(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    _configure(scheduler, runtime)
    scheduler.start()
    return scheduler


def run_forever(runtime: Runtime) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    _configure(scheduler, runtime)
    scheduler.start()
