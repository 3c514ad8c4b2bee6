"""Scheduled retraining: `retrain.requested` (reason `schedule`) on a cron.

APScheduler keeps the job in a SQL job store, so a restart neither loses a run that fell
due while the process was down (it runs once, within the misfire grace) nor repeats one
(the stored next run time has moved on). Each run is also claimed by its cron slot in Redis
before publishing, so two scheduler replicas, or a restart in the middle of a run, never
request the same slot twice.

The job store pickles job state (a function reference and a key string, nothing else)
into its own table; only the scheduler reads it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from redis.exceptions import RedisError

from bus.buffered import BufferedPublisher
from bus.bus import RedisBus
from schemas.decisions import RetrainRequest
from schemas.events import RetrainRequested
from spamops.settings import Settings

__all__ = ["RetrainScheduler", "cron_trigger", "latest_slot", "run_scheduled_retrain"]

log = logging.getLogger(__name__)

JOB_ID = "scheduled-retrain"

_RUNNING: dict[str, RetrainScheduler] = {}
"""Live schedulers by job-store key: the stored job refers to its scheduler by this key."""


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_weekdays(field: str) -> str:
    """Crontab weekdays (0 or 7 = Sunday) as names: APScheduler 3 counts 0 as Monday."""
    out: list[str] = []
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*" or not any(c.isdigit() for c in base):
            out.append(item)
            continue
        first, _, last = base.partition("-")
        days = range(int(first), int(last or first) + 1, int(step or 1))
        out.extend(_WEEKDAYS[d % 7] for d in days)
    return ",".join(dict.fromkeys(out))


def cron_trigger(expression: str) -> CronTrigger:
    """A UTC trigger from a crontab (5 fields) or a crontab with seconds first (6 fields)."""
    fields = expression.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) == 6:
        second, minute, hour, day, month, dow = fields
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(dow),
            timezone=UTC,
        )
    raise ValueError(
        f"schedule {expression!r} is not a crontab: use 5 fields (minute hour day month "
        "weekday), e.g. '0 3 * * 0', or 6 with seconds first"
    )


def latest_slot(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest fire time of `trigger` at or before `now` (within `lookback`)."""
    slot = None
    candidate = trigger.get_next_fire_time(None, now - lookback)
    while candidate is not None and candidate <= now:
        slot = candidate
        candidate = trigger.get_next_fire_time(candidate, candidate + timedelta(microseconds=1))
    return slot


async def run_scheduled_retrain(key: str) -> None:
    """The stored job's entry point (a plain function, so the job store can refer to it)."""
    await _RUNNING[key].fire()


class RetrainScheduler:
    def __init__(self, settings: Settings, bus: RedisBus, publisher: BufferedPublisher) -> None:
        self.settings = settings
        self.bus = bus
        self.publisher = publisher
        self.source = settings.source("scheduler")
        self.trigger = cron_trigger(settings.retrain.schedule_cron)
        self.grace = timedelta(seconds=settings.retrain.schedule_misfire_grace_s)
        self.key = settings.stream_prefix
        self.scheduler: AsyncIOScheduler | None = None
        self.fired: list[RetrainRequested] = []

    async def fire(self) -> RetrainRequested | None:
        now = datetime.now(UTC)
        slot = latest_slot(self.trigger, now, self.grace + timedelta(minutes=1)) or now
        if not await self._claim(slot):
            log.info("scheduled retrain for %s was already requested", slot.isoformat())
            return None
        event = RetrainRequested(
            source=self.source,
            payload=RetrainRequest(
                reason="schedule",
                requested_by=self.source,
                detail=f"scheduled run for {slot.isoformat()} "
                f"({self.settings.retrain.schedule_cron})",
            ),
        )
        self.publisher.enqueue(event)  # spooled if Redis is down: a run is never lost
        self.fired.append(event)
        log.info("scheduled retrain requested for slot %s: %s", slot.isoformat(), event.id)
        return event

    async def _claim(self, slot: datetime) -> bool:
        key = self.bus.keys.state(f"schedule:{slot.isoformat()}")
        try:
            ttl = int(self.grace.total_seconds()) + 7 * 24 * 3600
            return bool(await self.bus.redis.set(key, self.source, nx=True, ex=ttl))
        except RedisError as exc:
            log.warning("cannot claim slot %s (%s); requesting anyway", slot.isoformat(), exc)
            return True

    def start(self) -> AsyncIOScheduler:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        scheduler = AsyncIOScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(
                    url=self.settings.resolved_database_url, tablename="scheduler_jobs"
                )
            },
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.grace.total_seconds()),
            },
            timezone=UTC,
        )
        _RUNNING[self.key] = self
        scheduler.start(paused=True)  # load stored jobs before deciding what to add
        job_id = f"{JOB_ID}:{self.key}"
        job = scheduler.get_job(job_id)
        if job is None:
            scheduler.add_job(
                "producers.scheduler:run_scheduled_retrain",
                trigger=self.trigger,
                id=job_id,
                kwargs={"key": self.key},
                name="scheduled retrain",
            )
        elif str(job.trigger) != str(self.trigger):
            job.reschedule(self.trigger)  # the cron changed: the old next run no longer holds
        scheduler.resume()
        self.scheduler = scheduler
        next_run = scheduler.get_job(job_id).next_run_time
        log.info(
            "retraining scheduled by %r; next run %s",
            self.settings.retrain.schedule_cron,
            next_run.isoformat() if next_run else "never",
        )
        return scheduler

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        _RUNNING.pop(self.key, None)

    @property
    def next_run(self) -> datetime | None:
        if self.scheduler is None:
            return None
        job = self.scheduler.get_job(f"{JOB_ID}:{self.key}")
        return job.next_run_time if job else None
