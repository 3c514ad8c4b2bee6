"""The drift monitor: windows of live predictions against the profile of the model that served them.

Every `prediction.made` goes, as a compact item (token hashes, shape, probability, label,
the text only if the event has it), into a Redis window of its model version, shared by all
members of the group (`consumers.windows`). A window closes at `drift_window` predictions,
or on `tick()` once older than `window_max_age_s` with at least `drift_min_window`. Its
statistics are computed in a worker thread (a few ms for 500; the event loop keeps serving)
and published as `drift.measured`.

Per model version the monitor needs the version's reference profile (`ml.registry`, cached
on disk) and a calibration of its thresholds (`ml.drift.calibrate`, ~6 s). The calibration
depends on the profile and on the monitoring settings, so it is computed here, once per
version and settings, and cached in Redis for every replica and restart (docs/monitoring.md).
A version whose profile cannot be calibrated (trained before profiles carried per-message
data) or that no longer exists is logged once and skipped; an unreachable registry raises,
so the events are redelivered.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import orjson

from bus.bus import RedisBus
from bus.idempotency import DoneMarks
from consumers.base import EventConsumer
from consumers.windows import ClosedWindow, RedisWindows
from schemas.catalogue import StreamName
from schemas.common import ModelRef
from schemas.envelope import new_id
from schemas.events import DriftMeasured, Event, PredictionMade
from schemas.monitoring import DriftMeasurement
from schemas.traffic import Prediction
from spamops.settings import Settings

if TYPE_CHECKING:
    from ml.drift import Calibration, DriftDetector, WindowSample
    from ml.profile import ReferenceProfile

__all__ = ["DriftMonitor", "ProfileSource", "decode_window", "encode_item", "make_drift_monitor"]

log = logging.getLogger(__name__)

_CALIBRATION_TTL_S = 90 * 24 * 3600
_DETECTORS_KEPT = 8


class _Versioned(Protocol):
    @property
    def profile(self) -> ReferenceProfile: ...


class ProfileSource(Protocol):
    """`ml.registry.ModelRegistry`, or a test double."""

    def load_version(self, version: int) -> _Versioned: ...


def encode_item(p: Prediction) -> bytes:
    """The window item of one prediction: what drift needs, nothing more."""
    s = p.shape
    return orjson.dumps(
        [
            str(p.prediction_id),
            p.token_hashes,
            [s.length, s.digits, s.urls, s.uppercase_ratio],
            p.spam_probability,
            p.label == "spam",
            p.text,
        ]
    )


def decode_window(items: list[bytes]) -> WindowSample:
    """The window's arrays; a prediction pushed twice (a redelivered event) counts once."""
    from ml.drift import WindowSample
    from ml.features import token_hashes

    seen: dict[str, list[Any]] = {}
    for item in items:
        row = orjson.loads(item)
        seen[row[0]] = row
    rows = list(seen.values())
    return WindowSample.build(
        [r[1] if r[1] or r[5] is None else token_hashes(r[5]) for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [r[5] for r in rows],
    )


class DriftMonitor(EventConsumer):
    group: ClassVar[str] = "drift"
    streams = (StreamName.PREDICTIONS,)
    event_types = frozenset({"prediction.made"})

    def __init__(
        self, settings: Settings, bus: RedisBus, *, profiles: ProfileSource | None = None
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.source = settings.source("drift")
        self.monitoring = m = settings.monitoring
        self.tick_interval_s = m.tick_interval_s
        self.state = bus.keys.state("drift:")
        self.windows = RedisWindows(
            bus.redis,
            f"{self.state}window:",
            size=m.drift_window,
            min_size=m.drift_min_window,
            max_age_s=m.window_max_age_s,
            marks=DoneMarks(bus.redis, bus.keys, self.group, settings.bus.dedupe_ttl_s),
            publisher=bus.publisher,
        )
        self.profiles = profiles
        self.detectors: OrderedDict[int, DriftDetector] = OrderedDict()
        self.skipped: set[int] = set()
        self._loading: dict[int, asyncio.Lock] = {}
        self._gauges: tuple[Any, Any, Any] | None = None

    async def start(self) -> None:
        if self.metrics is not None:
            from prometheus_client import Gauge

            labels = ["model_version"]
            self._gauges = (
                Gauge(
                    "spamops_drift_score",
                    "Drift score of the latest window (0..1).",
                    labels,
                    registry=self.metrics,
                ),
                Gauge(
                    "spamops_drift_drifted",
                    "1 if the latest window drifted.",
                    labels,
                    registry=self.metrics,
                ),
                Gauge(
                    "spamops_drift_statistic",
                    "Each statistic of the latest window.",
                    [*labels, "statistic"],
                    registry=self.metrics,
                ),
            )
        if self.profiles is None:
            from ml.registry import ModelRegistry

            self.profiles = ModelRegistry(self.settings)

    async def handle(self, event: Event) -> None:
        await self.handle_batch([event])

    async def handle_batch(self, events: list[Event]) -> None:
        name = self.settings.model.registered_name
        grouped: dict[str, tuple[list[str], list[bytes]]] = {}
        for e in events:
            if not isinstance(e, PredictionMade):
                continue
            p = e.payload
            if p.model.name != name:
                continue  # another registered model's traffic: not ours to measure
            # Load (and calibrate) before pushing: a failure leaves the events unacked.
            if await self.detector(p.model.version) is None:
                continue
            ids, items = grouped.setdefault(f"{name}:{p.model.version}", ([], []))
            ids.append(str(e.id))
            items.append(encode_item(p))
        for key, (ids, items) in grouped.items():
            await self.windows.add(key, items, event_ids=ids, measure=self._measure)

    async def tick(self) -> None:
        await self.windows.close_stale(measure=self._measure)

    async def detector(self, version: int) -> DriftDetector | None:
        """The version's detector, loaded and calibrated once; None if it cannot be measured."""
        if version in self.detectors:
            self.detectors.move_to_end(version)
            return self.detectors[version]
        if version in self.skipped:
            return None
        async with self._loading.setdefault(version, asyncio.Lock()):
            if version not in self.detectors and version not in self.skipped:
                await self._load(version)
        return self.detectors.get(version)

    async def _load(self, version: int) -> None:
        from ml.drift import DriftDetector, ProfileNotCalibratableError
        from ml.errors import ModelNotFoundError

        assert self.profiles is not None, "start() was not called"
        try:
            loaded = await asyncio.to_thread(self.profiles.load_version, version)
            calibration = await self._calibration(version, loaded.profile)
        except (ProfileNotCalibratableError, ModelNotFoundError) as exc:
            log.warning("drift of v%s is not measured: %s", version, exc)
            self.skipped.add(version)
            return
        m = self.monitoring
        self.detectors[version] = await asyncio.to_thread(
            DriftDetector,
            loaded.profile,
            calibration,
            top_tokens=m.drift_top_tokens,
            examples=m.drift_examples,
        )
        while len(self.detectors) > _DETECTORS_KEPT:
            self.detectors.popitem(last=False)

    async def _calibration(self, version: int, profile: ReferenceProfile) -> Calibration:
        """From Redis if any replica calibrated this version with these settings; else now."""
        from ml.drift import Calibration, calibrate, calibration_sizes
        from ml.drift.calibration import CALIBRATION_METHOD

        m = self.monitoring
        sizes = calibration_sizes(m.drift_window, m.drift_min_window)
        identity = orjson.dumps(
            [
                CALIBRATION_METHOD,
                profile.created_at.isoformat(),
                profile.messages,
                sizes,
                m.target_false_alarm,
                m.drift_calibration_windows,
                m.drift_reference_sample,
            ]
        )
        digest = hashlib.sha256(identity).hexdigest()[:16]
        key = f"{self.state}calibration:{self.settings.model.registered_name}:{version}:{digest}"
        cached = await self.bus.redis.get(key)
        if cached is not None:
            return Calibration.model_validate_json(cached)
        calibration = await asyncio.to_thread(
            calibrate,
            profile,
            sizes=sizes,
            target_false_alarm=m.target_false_alarm,
            windows_per_size=m.drift_calibration_windows,
            reference_sample=m.drift_reference_sample,
        )
        log.info("calibrated drift of v%s in %.1f s", version, calibration.seconds)
        await self.bus.redis.set(key, calibration.model_dump_json(), ex=_CALIBRATION_TTL_S)
        return calibration

    async def _measure(self, window: ClosedWindow) -> DriftMeasured | None:
        """The window's `drift.measured`, published by `windows` as it removes the window."""
        name, _, version_text = window.key.rpartition(":")
        version = int(version_text)
        detector = await self.detector(version)
        if detector is None:
            return None
        sample = decode_window(window.items)
        result = await asyncio.to_thread(detector.assess, sample)
        measured = DriftMeasured(
            source=self.source,
            payload=DriftMeasurement(
                window_id=new_id(),
                model=ModelRef(name=name, version=version),
                n=sample.n,
                started_at=window.started_at,
                ended_at=window.ended_at,
                statistics=result.statistics,
                score=result.score,
                drifted=result.drifted,
                top_tokens=result.top_tokens,
                examples=result.examples,
            ),
        )
        if self._gauges is not None:
            score, drifted, statistic = self._gauges
            score.labels(str(version)).set(result.score)
            drifted.labels(str(version)).set(1 if result.drifted else 0)
            for stat in result.statistics:
                statistic.labels(str(version), stat.name).set(stat.value)
        return measured


def make_drift_monitor(settings: Settings, bus: RedisBus) -> DriftMonitor:
    return DriftMonitor(settings, bus)
