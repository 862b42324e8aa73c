"""The clock of the service: APScheduler polls the database for what is due.

APScheduler keeps no job state of its own here: every deadline is a row
(dispatch/deadlines/) and every message is a row (the outbox),
so the scheduler only decides *when to look*. A restart loses nothing, and
several `serve` processes on one PostgreSQL database share the work through
row locks taken with SKIP LOCKED, so no deadline fires twice and no message
goes out twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from config.settings import Settings
from dispatch.clock import Clock
from dispatch.deadlines.runner import run_due
from dispatch.outbox.worker import OutboxWorker, channels_from_settings
from dispatch.storage import refresh_statistics

log = logging.getLogger("sprachpool.scheduler")

#: Messages the outbox worker claims at a time.
BATCH = 50


class BackgroundJobs:
    """Deadlines, outbox delivery and the planner's statistics, each on its own interval,
    never overlapping itself."""

    def __init__(self, engine: Engine, *, settings: Settings, clock: Clock) -> None:
        self.engine = engine
        self._stopping = False
        self.settings = settings
        self.clock = clock
        self.outbox = OutboxWorker(
            engine, settings=settings, clock=clock, channels=channels_from_settings(settings)
        )
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_job(
            self.fire_deadlines,
            "interval",
            seconds=settings.deadline_poll_seconds,
            id="deadlines",
            next_run_time=None,
        )
        self.scheduler.add_job(
            self.deliver_messages,
            "interval",
            seconds=settings.outbox_poll_seconds,
            id="outbox",
            next_run_time=None,
        )

        self.scheduler.add_job(
            self.refresh_statistics,
            "interval",
            hours=settings.statistics_hours,
            id="statistics",
            next_run_time=None,
        )

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def fire_deadlines(self) -> int:
        try:
            return run_due(self.engine, clock=self.clock, settings=self.settings)
        except Exception:
            log.exception("deadline run failed")
            return 0

    def refresh_statistics(self) -> bool:
        try:
            return refresh_statistics(self.engine)
        except Exception:
            log.exception("refreshing the planner's statistics failed")
            return False

    def deliver_messages(self) -> int:
        """Deliver batch after batch while batches come back full, then wait for the next poll.

        One batch per poll would cap a process at BATCH messages per interval
        (a wave broadcast to 200 mediators would trickle out over seconds).
        """
        delivered = 0
        try:
            while True:
                handled = self.outbox.run_once(BATCH)
                delivered += handled
                if handled < BATCH or self._stopping:
                    return delivered
        except Exception:
            log.exception("outbox run failed")
            return delivered

    def start(self) -> None:
        self.scheduler.start()
        # Look at once: whatever fell due while the service was down goes first.
        for job in self.scheduler.get_jobs():
            job.modify(next_run_time=datetime.now(UTC))
        log.info(
            "scheduler started (deadlines every %ss, outbox every %ss)",
            self.settings.deadline_poll_seconds,
            self.settings.outbox_poll_seconds,
        )

    def shutdown(self) -> None:
        # The worker finishes the message in hand and puts the rest of its batch back.
        self._stopping = True
        self.outbox.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
