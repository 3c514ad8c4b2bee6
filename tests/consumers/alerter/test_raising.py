"""The raising rules (pure) and the raiser consumer that publishes them (fakeredis)."""

from __future__ import annotations

from collections.abc import Callable

from bus.bus import RedisBus
from consumers.alerter import rules
from consumers.alerter.raiser import AlertRaiser
from schemas.catalogue import StreamName
from schemas.events import AlertRaised
from spamops.settings import AlertSettings, Settings
from tests.consumers.agent import builders as agent
from tests.consumers.alerter import builders as b

ALERTS = AlertSettings(runbook_url="https://git.example.org/spamops/docs/runbooks.md")


def test_drift_verdict_raises_a_warning_with_figures_and_the_runbook() -> None:
    assert rules.drift_alert(agent.drift(0.05, drifted=False), ALERTS) is None
    event = agent.drift(0.42, version=3)
    alert = rules.drift_alert(event, ALERTS)
    assert alert is not None and alert.severity == "warning"
    assert alert.title == "Drift on spam-classifier v3: score 0.42 over 500 predictions"
    assert alert.dedupe_key == "drift:spam-classifier:v3"
    assert alert.source_event_id == event.id
    assert "- vocabulary_js: 0.42 (threshold 0.1)" in alert.body
    assert "bitcoin (0.0% → 5.0%)" in alert.body
    assert "What to do:" in alert.body
    assert alert.body.endswith(
        'Runbook: https://git.example.org/spamops/docs/runbooks.md#drift-alert ("Drift alert")'
    )
    assert alert.labels == {"kind": "drift", "model": "spam-classifier", "version": "3"}


def test_accuracy_below_the_floor_is_critical() -> None:
    assert rules.performance_alert(agent.performance(0.95), 0.93, ALERTS) is None
    assert rules.performance_alert(agent.performance(0.93), 0.93, ALERTS) is None
    alert = rules.performance_alert(agent.performance(0.885, version=4), 0.93, ALERTS)
    assert alert is not None and alert.severity == "critical"
    assert alert.title == "Accuracy 88.5% below the floor 93.0% on spam-classifier v4"
    assert "- accuracy 88.5% (floor 93.0%)" in alert.body
    assert "`spamops models rollback`" in alert.body
    assert "#a-bad-model-promoted" in alert.body
    assert alert.dedupe_key == "performance:spam-classifier:v4"


def test_promotions_are_info_and_rollbacks_warnings() -> None:
    promoted = rules.promoted_alert(agent.promoted(5, previous=4), ALERTS)
    assert promoted.severity == "info"
    assert promoted.title == "spam-classifier v5 promoted to champion (was v4)"
    assert promoted.dedupe_key == "promoted:spam-classifier:champion:v5"
    assert "`spamops models rollback`" in promoted.body
    rolled = rules.rolled_back_alert(b.rolled_back(4, 3), ALERTS)
    assert rolled.severity == "warning"
    assert rolled.title == "spam-classifier rolled back from v4 to v3"
    assert "accuracy 0.88 below the floor" in rolled.body
    assert rolled.dedupe_key == "rolled-back:spam-classifier:v4:v3"


def test_spans_and_runbook_anchors() -> None:
    assert [rules.span(s) for s in (45, 1800, 3600, 7200, 86400, 90)] == [
        "45 s",
        "30 min",
        "1 h",
        "2 h",
        "1 d",
        "90 s",
    ]
    assert rules.runbook(AlertSettings(), "Dead-letter growth") == (
        'Runbook: docs/runbooks.md#dead-letter-growth ("Dead-letter growth")'
    )


async def _raised(bus: RedisBus) -> list[AlertRaised]:
    page = await bus.read_page(StreamName.ALERTS, limit=1000)
    return [s.event for s in page.events if isinstance(s.event, AlertRaised)]


async def test_the_raiser_publishes_alerts_tied_to_their_cause(
    fake_bus: RedisBus, settings: Settings
) -> None:
    raiser = AlertRaiser(settings, fake_bus)
    drift = agent.drift(0.4)
    for event in (drift, agent.drift(0.01, drifted=False), agent.performance(0.99)):
        await raiser.handle(event)
    (alert,) = await _raised(fake_bus)
    assert alert.correlation == drift.correlation and alert.source == "alert-raiser@test"
    assert alert.payload.source_event_id == drift.id
    assert raiser.start_id == "$"  # a new deployment does not alert on history
    assert not {"alert.raised", "retrain.requested", "decision.made"} & raiser.event_types


async def test_dead_letters_alert_first_and_at_the_surge_per_stream_and_group(
    fake_bus: RedisBus, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(alerts=AlertSettings(deadletter_surge=3, dedupe_window_s=600))
    raiser = AlertRaiser(settings, fake_bus)
    for _ in range(4):
        await raiser.handle(b.dead_letter("predictions", "drift"))
    await raiser.handle(b.dead_letter("feedback", "performance"))
    alerts = [a.payload for a in await _raised(fake_bus)]
    assert [(a.severity, a.dedupe_key) for a in alerts] == [
        ("warning", "deadletter:predictions:drift"),
        ("critical", "deadletter:predictions:drift:surge"),
        ("warning", "deadletter:feedback:performance"),
    ]
    assert alerts[0].title == "Dead letter from drift on predictions"
    assert "ValueError: window is empty" in alerts[0].body
    assert "`spamops deadletter requeue <id>`" in alerts[0].body
    assert alerts[1].title == "3 dead letters from drift on predictions within 10 min"
    key = fake_bus.keys.state("alert-raiser:deadletters:predictions:drift")
    assert await fake_bus.redis.get(key) == b"4"
    assert 590 < await fake_bus.redis.ttl(key) <= 600  # the count starts over each window
