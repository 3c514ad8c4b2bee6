"""The drift monitor on a real MLflow registry: the profile comes with the registered version."""

from __future__ import annotations

import hashlib
import uuid

from fakeredis import FakeAsyncRedis

from bus.bus import RedisBus
from consumers.drift import DriftMonitor
from ml.features import message_features
from ml.registry import ModelRegistry
from ml.training import TrainingResult
from producers.scenarios import campaign_messages
from schemas.catalogue import StreamName
from schemas.events import DriftMeasured, PredictionMade
from schemas.traffic import Prediction
from spamops.settings import MonitoringSettings, Settings


async def test_monitor_measures_a_registered_version(
    trained: tuple[Settings, TrainingResult],
) -> None:
    base, result = trained
    settings = base.model_copy(
        update={
            "stream_prefix": f"drift-{uuid.uuid4().hex[:8]}:",
            "monitoring": MonitoringSettings(
                drift_window=40, drift_min_window=20, drift_calibration_windows=40
            ),
        }
    )
    bus = RedisBus(FakeAsyncRedis(), settings, component="test")
    monitor = DriftMonitor(settings, bus)
    await monitor.start()
    assert isinstance(monitor.profiles, ModelRegistry)
    events = []
    for m in campaign_messages(40, seed=8):
        hashes, shape = message_features(m.text)
        events.append(
            PredictionMade(
                source="api@test",
                payload=Prediction(
                    prediction_id=uuid.uuid4(),
                    text=m.text,
                    text_sha256=hashlib.sha256(m.text.encode()).hexdigest(),
                    token_hashes=hashes,
                    shape=shape,
                    label="ham",
                    spam_probability=0.2,
                    model=result.model,
                    latency_ms=0.1,
                ),
            )
        )
    await monitor.handle_batch(list(events))
    page = await bus.read_page(StreamName.DRIFT, types=["drift.measured"])
    (event,) = [s.event for s in page.events if isinstance(s.event, DriftMeasured)]
    assert event.payload.model.version == result.model.version
    assert event.payload.drifted and event.payload.n == 40
    await bus.close()
