"""The alert raiser: system events in, `alert.raised` out (the rules are in `rules`).

It reads `drift`, `models` and `deadletter` as its own group, starting at "$" so that a new
deployment does not alert on the streams' history. Dead letters are counted per stream and
group in Redis, within the dedupe window, shared by every replica: the first one of a window
and the `deadletter_surge`-th raise an alert, the rest only count.

A redelivery after a crash between publishing and acknowledging raises the alert again with
a new id; its dedupe key makes the alerter suppress it, so operators are told once. A
redelivered dead letter keeps the number it was counted as (up to the surge), so a crash
never skips the first or the surge alert.
"""

from __future__ import annotations

from typing import ClassVar

from bus.bus import RedisBus
from consumers.alerter import rules
from consumers.base import EventConsumer
from schemas.catalogue import StreamName
from schemas.events import (
    AlertRaised,
    DriftMeasured,
    Event,
    EventDeadLettered,
    ModelPromoted,
    ModelRolledBack,
    PerformanceMeasured,
)
from schemas.operations import Alert
from spamops.settings import Settings

__all__ = ["AlertRaiser", "make_alert_raiser"]


_COUNT = """
local seen = redis.call('GET', KEYS[2])
if seen then return tonumber(seen) end
redis.call('SET', KEYS[1], 0, 'NX', 'EX', ARGV[1])
local n = redis.call('INCR', KEYS[1])
if n <= tonumber(ARGV[2]) then redis.call('SET', KEYS[2], n, 'EX', ARGV[1]) end
return n
"""
"""A dead letter's number in its window, counted once: remembered up to the surge."""


class AlertRaiser(EventConsumer):
    group: ClassVar[str] = "alert-raiser"
    streams = (StreamName.DRIFT, StreamName.MODELS, StreamName.DEADLETTER)
    event_types = frozenset(
        {
            "drift.measured",
            "performance.measured",
            "model.promoted",
            "model.rolled_back",
            "event.deadlettered",
        }
    )
    start_id: ClassVar[str] = "$"

    def __init__(self, settings: Settings, bus: RedisBus) -> None:
        self.settings = settings.alerts
        self.floor = settings.retrain.accuracy_floor
        self.bus = bus
        self.source = settings.source("alert-raiser")

    async def handle(self, event: Event) -> None:
        alert = await self.alert_for(event)
        if alert is not None:
            await self.bus.publish(
                AlertRaised(source=self.source, correlation=event.correlation, payload=alert)
            )

    async def alert_for(self, event: Event) -> Alert | None:
        s = self.settings
        match event:
            case DriftMeasured():
                return rules.drift_alert(event, s)
            case PerformanceMeasured():
                return rules.performance_alert(event, self.floor, s)
            case ModelPromoted():
                return rules.promoted_alert(event, s)
            case ModelRolledBack():
                return rules.rolled_back_alert(event, s)
            case EventDeadLettered():
                count = await self._count_dead_letter(event)
                return rules.deadletter_alert(event, count, s)
        return None

    async def _count_dead_letter(self, event: EventDeadLettered) -> int:
        """This dead letter's number within the window for its stream and group (atomic).

        The numbers up to the surge are remembered per dead letter, so a redelivery (after a
        crash between counting and publishing) gets the same number and raises the same
        alert, instead of counting itself again and skipping the first or the surge alert.
        """
        p = event.payload
        key = self.bus.keys.state(f"{self.group}:deadletters:{p.stream}:{p.group}")
        count = await self.bus.redis.eval(
            _COUNT,
            2,
            key,
            f"{key}:{event.id}",
            self.settings.dedupe_window_s,
            self.settings.deadletter_surge,
        )
        return int(count)


def make_alert_raiser(settings: Settings, bus: RedisBus) -> AlertRaiser:
    return AlertRaiser(settings, bus)
