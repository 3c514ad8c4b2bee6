"""Consumer metrics: delivery counters, handling time, lag and pending."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bus.bus import RedisBus
from consumers.metrics import ConsumerMetrics
from schemas.catalogue import StreamName
from schemas.events import Event
from tests import factories
from tests.bus.helpers import run_until


def _values(metrics: ConsumerMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


async def test_counters_lag_and_latency(fake_bus: RedisBus) -> None:
    metrics = ConsumerMetrics()
    seen: list[Event] = []

    async def handle(event: Event) -> None:
        if event.payload.detail == "poison":  # type: ignore[union-attr]
            raise RuntimeError("no")
        seen.append(event)

    consumer = fake_bus.consumer(
        group="g", name="m", streams=[StreamName.DECISIONS], handler=handle
    )
    consumer.observe = metrics.handle.labels("g").observe
    poison = factories.retrain().model_copy(
        update={"payload": factories.retrain().payload.model_copy(update={"detail": "poison"})}
    )
    await fake_bus.publish_many([factories.retrain() for _ in range(5)] + [poison])

    async def settled() -> bool:
        return len(seen) == 5 and consumer.counters.deadlettered == 1

    await run_until(consumer, settled)
    metrics.sync_counters([consumer])
    await fake_bus.publish_many([factories.retrain() for _ in range(3)])  # not consumed yet
    await metrics.sync_groups(fake_bus, {"g"})
    v = _values(metrics)
    assert v[("spamops_consumer_events_total", (("group", "g"), ("outcome", "processed")))] == 5
    assert v[("spamops_consumer_events_total", (("group", "g"), ("outcome", "deadlettered")))] == 1
    assert v[("spamops_consumer_handle_duration_seconds_count", (("group", "g"),))] >= 6
    assert v[("spamops_consumer_lag_events", (("group", "g"), ("stream", "decisions")))] == 3
    assert v[("spamops_consumer_pending_events", (("group", "g"), ("stream", "decisions")))] == 0
    metrics.sync_counters([consumer])  # idempotent: no new events, no new counts
    assert (
        _values(metrics)[
            ("spamops_consumer_events_total", (("group", "g"), ("outcome", "processed")))
        ]
        == 5
    )
