"""The retrainer against a real MLflow (SQLite backend) and a real SQL store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bus.bus import RedisBus
from consumers.projector import Projector
from consumers.retrainer import Retrainer, is_reserved_for_evaluation
from ml.registry import ModelRegistry
from producers.scenarios import campaign_messages
from schemas.catalogue import StreamName
from schemas.events import Event, ModelCompared, ModelPromoted, ModelTrained
from spamops.settings import ModelSettings, Settings
from tests import factories

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


@pytest.fixture
def ml_settings(
    make_settings: Callable[..., Settings], dataset_path: Path, tmp_path: Path
) -> Settings:
    return make_settings(
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        model=ModelSettings(
            dataset_path=dataset_path,
            cache_dir=tmp_path / "cache",
            artifact_root=(tmp_path / "artifacts").as_uri(),
            plots=False,
        ),
    )


async def _models_events(bus: RedisBus) -> list[Event]:
    return [s.event for s in (await bus.read_page(StreamName.MODELS, limit=100)).events]


def test_reserved_fifth_is_stable() -> None:
    texts = [m.text for m in campaign_messages(1000, seed=3)]
    share = sum(map(is_reserved_for_evaluation, texts)) / len(texts)
    assert 0.15 < share < 0.25
    assert [is_reserved_for_evaluation(t) for t in texts] == [
        is_reserved_for_evaluation(t) for t in texts
    ]


async def test_first_model_then_a_campaign_challenger_is_promoted(
    fake_bus: RedisBus, ml_settings: Settings
) -> None:
    bus = RedisBus(fake_bus.redis, ml_settings)
    retrainer = Retrainer(ml_settings, bus)
    projector = Projector(ml_settings)
    await retrainer.start()
    await projector.start()
    try:
        first = factories.retrain("manual")
        await retrainer.handle(first)
        (trained,) = await _models_events(bus)
        assert isinstance(trained, ModelTrained) and trained.payload.model.alias == "champion"

        # A new campaign is labelled in production: predictions and their feedback.
        campaign = campaign_messages(300, seed=11)
        predictions = [factories.prediction(m.text, seq=i) for i, m in enumerate(campaign)]
        feedback = [factories.feedback(p.payload.prediction_id, "spam") for p in predictions]
        await projector.handle_batch([*predictions, *feedback])

        second = factories.retrain("drift")
        await retrainer.handle(second)
        await retrainer.handle(second)  # a redelivery does nothing more
        events = await _models_events(bus)
        kinds = [type(e).__name__ for e in events]
        assert kinds == ["ModelTrained", "ModelTrained", "ModelCompared", "ModelPromoted"]
        compared = events[2]
        assert isinstance(compared, ModelCompared)
        c = compared.payload
        assert c.decision == "promote" and c.retrain_request_id == second.id
        assert {s.name for s in c.evaluation_sets} == {"heldout", "recent"}
        assert c.mcnemar.challenger_only_correct > c.mcnemar.champion_only_correct
        assert c.mcnemar.p_value < 0.05
        assert events[1].payload.feedback_rows > 200  # type: ignore[union-attr]
        promoted = events[3]
        assert isinstance(promoted, ModelPromoted)
        assert promoted.payload.version == 2 and promoted.payload.comparison_event_id == compared.id
        assert ModelRegistry(ml_settings).champion_version() == 2
    finally:
        await projector.close()
        await retrainer.close()
