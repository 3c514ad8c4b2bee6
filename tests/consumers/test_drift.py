"""The drift monitor: windows per model version, redacted events, ticks, the calibration cache.

A small real model (every third corpus message, ~2 s) gives a calibratable profile; the
registry is a double that hands it out, so these tests need no MLflow
(tests/ml/drift/test_monitor_registry.py runs the monitor on a real registry).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bus.bus import RedisBus
from consumers.drift import DriftMonitor, make_drift_monitor
from consumers.runner import build
from ml.candidates import get_candidate
from ml.data import load_corpus, parse_corpus
from ml.errors import ModelNotFoundError
from ml.features import message_features
from ml.fitting import fit_candidate, prepare_data, single_threaded
from ml.profile import ReferenceProfile, build_profile
from ml.scorer import FastScorer
from producers.scenarios import LabelledMessage, campaign_messages
from schemas.catalogue import StreamName
from schemas.common import ModelRef
from schemas.events import DriftMeasured, PredictionMade
from schemas.traffic import Prediction
from spamops.settings import ModelSettings, MonitoringSettings, Settings

WINDOW = 60


@dataclass(frozen=True)
class SmallModel:
    profile: ReferenceProfile
    scorer: FastScorer
    clean: list[LabelledMessage]


@pytest.fixture(scope="module")
def small(dataset_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SmallModel:
    corpus = load_corpus(dataset_path)
    lines = [f"{lab}\t{txt}" for lab, txt in zip(corpus.labels, corpus.texts, strict=True)][::3]
    small_corpus = parse_corpus(("\n".join(lines) + "\n").encode(), "small")
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("drift-model"),
        model=ModelSettings(dataset_path=dataset_path, plots=False),
    )
    data = prepare_data(settings, corpus=small_corpus)
    with single_threaded():
        fitted = fit_candidate(get_candidate("union-logreg"), data, settings)
    clean = [
        LabelledMessage(t, "spam" if y else "ham")
        for t, y in zip(data.test_texts, data.y_test.tolist(), strict=True)
    ]
    return SmallModel(fitted.profile, FastScorer(fitted.scorer), clean)


@dataclass(frozen=True)
class _Loaded:
    profile: ReferenceProfile


class Profiles:
    """The registry double: version -> profile; counts loads."""

    def __init__(self, profiles: dict[int, ReferenceProfile]) -> None:
        self.profiles = profiles
        self.loads: list[int] = []

    def load_version(self, version: int) -> _Loaded:
        self.loads.append(version)
        if version not in self.profiles:
            raise ModelNotFoundError(f"no version {version}")
        return _Loaded(self.profiles[version])


@pytest.fixture
def drift_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        monitoring=MonitoringSettings(
            drift_window=WINDOW,
            drift_min_window=20,
            drift_calibration_windows=60,
            drift_reference_sample=300,
        )
    )


def predict(
    model: SmallModel, text: str, version: int, *, redacted: bool = False
) -> PredictionMade:
    hashes, shape = message_features(text)
    p = model.scorer.score(text)
    return PredictionMade(
        source="api@test",
        payload=Prediction(
            prediction_id=uuid.uuid4(),
            text=None if redacted else text,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            token_hashes=hashes,
            shape=shape,
            label="spam" if p >= model.profile.threshold else "ham",
            spam_probability=p,
            model=ModelRef(name="spam-classifier", version=version, alias="champion"),
            latency_ms=0.1,
        ),
    )


async def _measurements(bus: RedisBus) -> list[DriftMeasured]:
    page = await bus.read_page(StreamName.DRIFT, types=["drift.measured"])
    return [s.event for s in page.events if isinstance(s.event, DriftMeasured)]


async def test_windows_per_model_version_full_and_redacted(
    small: SmallModel, drift_settings: Settings, fake_bus: RedisBus
) -> None:
    profiles = Profiles({1: small.profile, 2: small.profile})
    monitor = DriftMonitor(drift_settings, fake_bus, profiles=profiles)
    await monitor.start()
    clean = [predict(small, m.text, 1) for m in small.clean[:WINDOW]]
    campaign = [predict(small, m.text, 2, redacted=True) for m in campaign_messages(WINDOW, 3)]
    for i in range(0, WINDOW, 20):  # interleaved batches of both versions
        await monitor.handle_batch([*clean[i : i + 20], *campaign[i : i + 20]])
    by_version = {m.payload.model.version: m.payload for m in await _measurements(fake_bus)}
    assert set(by_version) == {1, 2} and profiles.loads == [1, 2]
    v1, v2 = by_version[1], by_version[2]
    assert v1.n == v2.n == WINDOW
    assert not v1.drifted and v1.score == 0.0
    assert v2.drifted and v2.score > 0.5 and v2.examples == ()  # redacted: no texts
    assert {s.name for s in v2.statistics} >= {"oov_rate", "domain_auc", "spam_rate_change"}
    assert all(s.threshold > 0 for s in v2.statistics)
    assert any(t.token.startswith("#") for t in v2.top_tokens)  # unseen, and no text to name it


async def test_full_text_windows_carry_examples_and_named_tokens(
    small: SmallModel, drift_settings: Settings, fake_bus: RedisBus
) -> None:
    monitor = DriftMonitor(drift_settings, fake_bus, profiles=Profiles({1: small.profile}))
    await monitor.start()
    await monitor.handle_batch([predict(small, m.text, 1) for m in campaign_messages(WINDOW, 4)])
    (m,) = await _measurements(fake_bus)
    assert m.payload.drifted and len(m.payload.examples) == 3
    assert not any(t.token.startswith("#") for t in m.payload.top_tokens)


async def test_tick_closes_an_aged_window_and_a_redelivery_counts_once(
    small: SmallModel, drift_settings: Settings, fake_bus: RedisBus
) -> None:
    monitor = DriftMonitor(drift_settings, fake_bus, profiles=Profiles({1: small.profile}))
    await monitor.start()
    events = [predict(small, m.text, 1) for m in small.clean[:30]]
    await monitor.handle_batch(list(events))
    await monitor.handle(events[0])  # redelivered: pushed again, counted once
    await monitor.tick()
    assert await _measurements(fake_bus) == []  # not old enough yet
    monitor.windows.max_age_ms = 0
    await monitor.tick()
    (m,) = await _measurements(fake_bus)
    assert m.payload.n == 30 and m.payload.started_at <= m.payload.ended_at


async def test_calibration_is_computed_once_per_version_and_shared(
    small: SmallModel, drift_settings: Settings, fake_bus: RedisBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = DriftMonitor(drift_settings, fake_bus, profiles=Profiles({1: small.profile}))
    await first.start()
    await first.detector(1)
    import ml.drift

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("calibrated again: the Redis cache was not used")

    monkeypatch.setattr(ml.drift, "calibrate", refuse)
    second = DriftMonitor(drift_settings, fake_bus, profiles=Profiles({1: small.profile}))
    await second.start()
    a, b = await first.detector(1), await second.detector(1)
    assert a is not None and b is not None and a.calibration == b.calibration


async def test_versions_that_cannot_be_measured_are_skipped(
    small: SmallModel, drift_settings: Settings, fake_bus: RedisBus
) -> None:
    old = build_profile([m.text for m in small.clean[:50]], 0.13, [0.1, 0.9], 0.5)
    profiles = Profiles({3: old})
    monitor = DriftMonitor(drift_settings, fake_bus, profiles=profiles)
    await monitor.start()
    for version in (3, 4, 3):
        await monitor.handle_batch([predict(small, m.text, version) for m in small.clean[:WINDOW]])
    assert await _measurements(fake_bus) == []
    assert monitor.skipped == {3, 4} and profiles.loads == [3, 4]
    other = predict(small, "hello", 1).model_copy(deep=True)
    payload = other.payload.model_copy(update={"model": ModelRef(name="other", version=1)})
    await monitor.handle(other.model_copy(update={"payload": payload}))
    assert profiles.loads == [3, 4]  # another registered model's traffic is ignored


def test_registered_in_the_runner(drift_settings: Settings, fake_bus: RedisBus) -> None:
    monitor = build("drift", drift_settings, fake_bus)
    assert isinstance(monitor, DriftMonitor) and monitor.group == "drift"
    assert isinstance(make_drift_monitor(drift_settings, fake_bus), DriftMonitor)


@pytest.mark.redis
async def test_on_real_redis_through_the_consumer_group(
    small: SmallModel, drift_settings: Settings, redis_bus: RedisBus
) -> None:
    from tests.bus.helpers import run_until

    monitor = DriftMonitor(drift_settings, redis_bus, profiles=Profiles({1: small.profile}))
    await monitor.start()
    await redis_bus.publish_many([predict(small, m.text, 1) for m in small.clean[: 2 * WINDOW]])
    consumer = redis_bus.consumer(
        group=monitor.group,
        name="m1",
        streams=monitor.streams,
        handler=monitor.handle,
        event_types=monitor.event_types,
        batch_handler=monitor.handle_batch,
    )

    async def two_windows() -> bool:
        return len(await _measurements(redis_bus)) == 2

    await run_until(consumer, two_windows, timeout_s=30)
    assert [m.payload.n for m in await _measurements(redis_bus)] == [WINDOW, WINDOW]
