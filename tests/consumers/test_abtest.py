"""The A/B test evaluator: join, per-arm counters, updates, conclusions, restarts."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bus.bus import RedisBus
from consumers.abtest import AbTestEvaluator
from consumers.runner import build
from schemas.abtests import AbTestConclusion, AbTestStart
from schemas.catalogue import StreamName
from schemas.common import Label, ModelRef, Variant
from schemas.events import (
    AbTestConcluded,
    AbTestStarted,
    AbTestUpdated,
    Event,
    FeedbackReceived,
    PredictionMade,
)
from schemas.traffic import Feedback, MessageShape, Prediction, ShadowScore
from spamops.settings import AbTestSettings, Settings

NAME = "spam-classifier"


def start(mode: str = "split", **kw: Any) -> AbTestStarted:
    values: dict[str, Any] = {
        "abtest_id": uuid.uuid4(),
        "champion": ModelRef(name=NAME, version=1, alias="champion"),
        "challenger": ModelRef(name=NAME, version=2, alias="challenger"),
        "mode": mode,
        "split": 0.5,
        "min_samples": 30,
        "min_effect": 0.2,
        "started_by": "test",
    }
    values.update(kw)
    return AbTestStarted(source="api@t", payload=AbTestStart(**values))


def prediction(
    test: AbTestStarted | None,
    variant: Variant,
    label: Label,
    *,
    version: int | None = None,
    shadow: Label | None = None,
) -> PredictionMade:
    text = f"message {uuid.uuid4()}"
    served = version or (1 if variant == "champion" else 2)
    return PredictionMade(
        source="api@t",
        payload=Prediction(
            prediction_id=uuid.uuid4(),
            request_id=str(uuid.uuid4()),
            text=text,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            shape=MessageShape(length=len(text), tokens=2, digits=0, urls=0, uppercase_ratio=0),
            label=label,
            spam_probability=0.9 if label == "spam" else 0.1,
            model=ModelRef(name=NAME, version=served),
            variant=variant,
            abtest_id=test.payload.abtest_id if test else None,
            shadow=None
            if shadow is None
            else ShadowScore(
                model=ModelRef(name=NAME, version=2),
                spam_probability=0.5,
                label=shadow,
                latency_ms=2.0,
            ),
            latency_ms=1.0,
        ),
    )


def feedback(p: PredictionMade, label: Label) -> FeedbackReceived:
    payload = Feedback(prediction_id=p.payload.prediction_id, label=label)
    return FeedbackReceived(source="api@t", payload=payload)


def traffic(
    test: AbTestStarted, variant: Variant, n: int, errors: int
) -> tuple[list[Event], list[Event]]:
    """n spam messages of one arm, `errors` of them (evenly spread) called ham."""
    wrong = [i * errors // n != (i + 1) * errors // n for i in range(n)]
    preds = [prediction(test, variant, "ham" if w else "spam") for w in wrong]
    return list(preds), [feedback(p, "spam") for p in preds]


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """This module's settings (so also `fake_bus`'s and `redis_bus`'s): hourly updates."""
    return make_settings(abtest=AbTestSettings(update_interval_s=3600))


@pytest.fixture
def bus(fake_bus: RedisBus) -> RedisBus:
    return fake_bus


async def events_of(bus: RedisBus, kind: type[Any]) -> list[Any]:
    page = await bus.read_page(StreamName.ABTESTS, limit=1000)
    return [s.event for s in page.events if isinstance(s.event, kind)]


async def evaluator(settings: Settings, bus: RedisBus, **kw: Any) -> AbTestEvaluator:
    ev = AbTestEvaluator(settings, bus, **kw)
    await ev.start()
    return ev


async def feed(ev: AbTestEvaluator, events: Sequence[Event], batch: int = 25) -> None:
    for i in range(0, len(events), batch):
        await ev.handle_batch(list(events[i : i + batch]))


async def test_split_test_joins_either_order_updates_then_concludes_once(
    settings: Settings, bus: RedisBus
) -> None:
    test = start()
    await bus.publish(test)
    ev = await evaluator(settings, bus)
    champ, champ_fb = traffic(test, "champion", 60, errors=30)
    chall, chall_fb = traffic(test, "challenger", 60, errors=0)
    # Labels before predictions for the champion, after them for the challenger.
    await feed(ev, champ_fb[:10] + chall[:10])
    await ev.tick()
    assert not await events_of(bus, AbTestConcluded)
    (update,) = await events_of(bus, AbTestUpdated)  # the first look publishes at once
    seen = {a.variant: (a.n, a.predictions) for a in update.payload.arms}
    assert seen == {"champion": (0, 0), "challenger": (0, 10)}
    assert update.payload.p_value == 1.0 and update.payload.planned_samples > 0
    await feed(ev, champ + chall_fb[:10])
    await ev.tick()  # an update is due only once an hour
    assert len(await events_of(bus, AbTestUpdated)) == 1
    await feed(ev, chall[10:] + champ_fb[10:] + chall_fb[10:])
    (done,) = await events_of(bus, AbTestConcluded)
    c: AbTestConclusion = done.payload
    assert (c.winner, c.reason) == ("challenger", "significant")
    assert c.p_value <= 0.05 and c.ci_high < 0 and c.effect == pytest.approx(-0.5, abs=0.1)
    arms = {a.variant: a for a in c.arms}
    assert arms["champion"].model_version == 1 and arms["challenger"].model_version == 2
    assert arms["champion"].error_rate == pytest.approx(
        arms["champion"].errors / arms["champion"].n
    )
    assert arms["challenger"].spam_recall == 1.0 and arms["champion"].predictions == 60
    assert arms["champion"].latency_p50_ms == pytest.approx(1.0, rel=0.05)
    # Redelivered, more traffic, another tick, a new member: never a second conclusion.
    await feed(ev, champ + champ_fb + traffic(test, "champion", 10, 5)[0])
    await ev.tick()
    await (await evaluator(settings, bus)).tick()
    assert len(await events_of(bus, AbTestConcluded)) == 1


async def test_counts_once_however_often_delivered(settings: Settings, bus: RedisBus) -> None:
    test = start(min_samples=1000)
    await bus.publish(test)
    ev = await evaluator(settings, bus)
    preds, labels = traffic(test, "champion", 20, errors=5)
    for _ in range(3):
        await feed(ev, preds + labels)
    counts = await bus.redis.hgetall(ev._key("counts", test.payload.abtest_id))
    assert int(counts[b"champion:n"]) == 20 and int(counts[b"champion:err"]) == 5
    assert int(counts[b"champion:served"]) == 20


async def test_ignores_unknown_and_foreign_predictions(settings: Settings, bus: RedisBus) -> None:
    test = start(min_samples=1000)
    await bus.publish(test)
    ev = await evaluator(settings, bus)
    stray = [
        prediction(start(), "champion", "spam"),  # a test never started
        prediction(None, "champion", "spam"),  # no test
        prediction(test, "champion", "spam", version=7),  # the champion was replaced
    ]
    await feed(ev, [*stray, *(feedback(p, "ham") for p in stray)])
    assert await bus.redis.hgetall(ev._key("counts", test.payload.abtest_id)) == {}


async def test_a_test_started_after_the_evaluator_is_found(
    settings: Settings, bus: RedisBus
) -> None:
    ev = await evaluator(settings, bus)
    test = start(min_samples=1000)
    await bus.publish(test)  # not yet folded: the first prediction naming it syncs
    preds, labels = traffic(test, "challenger", 5, errors=1)
    await feed(ev, labels + preds)
    counts = await bus.redis.hgetall(ev._key("counts", test.payload.abtest_id))
    assert int(counts[b"challenger:n"]) == 5 and int(counts[b"challenger:err"]) == 1


async def test_shadow_mode_pairs_both_models_on_the_same_messages(
    settings: Settings, bus: RedisBus
) -> None:
    test = start("shadow", min_samples=40)
    await bus.publish(test)
    ev = await evaluator(settings, bus)
    # Truth is spam; the champion misses 30 of 80, the challenger 2 (1 shared miss).
    preds = [
        prediction(
            test,
            "champion",
            "ham" if i < 30 else "spam",
            shadow="ham" if i in (0, 79) else "spam",
        )
        for i in range(80)
    ]
    await feed(ev, [*preds, *(feedback(p, "spam") for p in preds)])
    (done,) = await events_of(bus, AbTestConcluded)
    c = done.payload
    assert (c.winner, c.reason) == ("challenger", "significant")
    arms = {a.variant: a for a in c.arms}
    assert arms["champion"].n == arms["challenger"].n >= 40
    assert arms["challenger"].predictions == arms["champion"].predictions
    assert arms["challenger"].latency_p50_ms == pytest.approx(2.0, rel=0.05)
    assert c.ci_low <= c.effect <= c.ci_high < 0
    counts = await bus.redis.hgetall(ev._key("counts", test.payload.abtest_id))
    # Concluded at the first look that decided: what it had counted by then.
    assert int(counts[b"pair:n"]) == arms["champion"].n
    assert int(counts[b"pair:b"]) == arms["champion"].errors - 1  # one miss was shared


async def test_stopped_by_the_api_is_never_concluded_again(
    settings: Settings, bus: RedisBus
) -> None:
    test = start()
    await bus.publish(test)
    ev = await evaluator(settings, bus)
    await bus.publish(
        AbTestConcluded(
            source="api@t",
            payload=AbTestConclusion(
                abtest_id=test.payload.abtest_id,
                winner="none",
                reason="stopped",
                effect=0,
                ci_low=-1,
                ci_high=1,
                p_value=1,
                arms=(),
            ),
        )
    )
    await ev.tick()
    preds, labels = traffic(test, "champion", 60, errors=30)
    await feed(ev, preds + labels + traffic(test, "challenger", 60, 0)[0])
    assert [e.payload.reason for e in await events_of(bus, AbTestConcluded)] == ["stopped"]
    assert await bus.redis.hgetall(ev._key("counts", test.payload.abtest_id)) == {}


async def test_out_of_time_concludes_without_a_winner(settings: Settings, bus: RedisBus) -> None:
    test = start(max_duration_s=3600)
    await bus.publish(test)
    now = [datetime.now(UTC)]
    ev = await evaluator(settings, bus, clock=lambda: now[0])
    arms: tuple[Variant, ...] = ("champion", "challenger")
    for arm in arms:
        preds, labels = traffic(test, arm, 10, errors=2)
        await feed(ev, preds + labels)
    await ev.tick()
    assert not await events_of(bus, AbTestConcluded)
    now[0] += timedelta(hours=2)
    await ev.tick()
    (done,) = await events_of(bus, AbTestConcluded)
    assert (done.payload.winner, done.payload.reason) == ("none", "max_duration")
    assert {a.n for a in done.payload.arms} == {10}


async def test_futility_when_the_interval_fits_inside_the_minimum_effect(
    settings: Settings, bus: RedisBus
) -> None:
    test = start(min_samples=100, min_effect=0.3)
    await bus.publish(test)
    ev = await evaluator(settings, bus)
    champ, champ_fb = traffic(test, "champion", 400, errors=40)
    chall, chall_fb = traffic(test, "challenger", 400, errors=40)
    both = [x for quad in zip(champ, champ_fb, chall, chall_fb, strict=True) for x in quad]
    await feed(ev, both, batch=100)
    (done,) = await events_of(bus, AbTestConcluded)
    c = done.payload
    assert (c.winner, c.reason) == ("none", "futility")
    assert -0.3 < c.ci_low < 0 < c.ci_high < 0.3 and c.effect == 0


async def test_state_survives_a_restart(settings: Settings, bus: RedisBus) -> None:
    test = start()
    await bus.publish(test)
    first = await evaluator(settings, bus)
    champ, champ_fb = traffic(test, "champion", 60, errors=30)
    chall, chall_fb = traffic(test, "challenger", 60, errors=0)
    await feed(first, champ + chall)  # predictions seen by the old process only
    second = await evaluator(settings, bus)  # a new process: tests replayed, joins kept
    assert test.payload.abtest_id in second.tests
    await feed(second, champ_fb + chall_fb)
    (done,) = await events_of(bus, AbTestConcluded)
    assert done.payload.winner == "challenger"
    third = await evaluator(settings, bus)
    assert not third.tests  # the conclusion is replayed too


def test_registered_with_the_runner(settings: Settings, bus: RedisBus) -> None:
    app = build("abtest", settings, bus)
    assert isinstance(app, AbTestEvaluator)


@pytest.mark.redis
async def test_on_real_redis_through_two_group_members(
    redis_bus: RedisBus, settings: Settings
) -> None:
    import asyncio

    from tests.bus.helpers import wait_for

    bus = redis_bus
    test = start("shadow", min_samples=40)
    await bus.publish(test)
    preds = [
        prediction(test, "champion", "ham" if i < 30 else "spam", shadow="spam") for i in range(80)
    ]
    await bus.publish_many([feedback(p, "spam") for p in preds[:40]])
    await bus.publish_many(preds)
    await bus.publish_many([feedback(p, "spam") for p in preds[40:]])
    members = []
    for name in ("m1", "m2"):
        app = await evaluator(settings, bus)
        members.append(
            bus.consumer(
                group=app.group,
                name=name,
                streams=app.streams,
                handler=app.handle,
                event_types=app.event_types,
                batch_handler=app.handle_batch,
            )
        )
    tasks = [asyncio.create_task(m.run()) for m in members]

    async def concluded() -> bool:
        return bool(await events_of(bus, AbTestConcluded))

    try:
        await wait_for(concluded)
    finally:
        for m in members:
            m.stop()
        await asyncio.gather(*tasks)
    (done,) = await events_of(bus, AbTestConcluded)
    assert done.payload.winner == "challenger"
    arms = {a.variant: a for a in done.payload.arms}
    assert arms["champion"].n >= 40 and arms["challenger"].errors == 0
