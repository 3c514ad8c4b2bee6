"""Events for agent tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from schemas.abtests import AbTestConclusion
from schemas.common import ClassificationMetrics, ModelRef
from schemas.decisions import RetrainRequest
from schemas.events import (
    AbTestConcluded,
    DriftMeasured,
    ModelCompared,
    ModelPromoted,
    PerformanceMeasured,
    RetrainRequested,
)
from schemas.models import EvaluationSet, McNemarResult, ModelComparison, Promotion
from schemas.monitoring import DriftMeasurement, DriftStatistic, DriftToken, PerformanceMeasurement

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def ref(version: int, alias: Literal["champion", "challenger"] | None = None) -> ModelRef:
    return ModelRef(name="spam-classifier", version=version, alias=alias)


def metrics(
    accuracy: float = 0.98, mcc: float = 0.9, ham_fpr: float = 0.002
) -> ClassificationMetrics:
    return ClassificationMetrics(
        n=200,
        accuracy=accuracy,
        spam_precision=0.95,
        spam_recall=0.9,
        spam_f1=0.92,
        ham_fpr=ham_fpr,
        mcc=mcc,
    )


def drift(
    score: float, drifted: bool | None = None, version: int = 1, at: datetime = NOW
) -> DriftMeasured:
    flag = score > 0.15 if drifted is None else drifted
    return DriftMeasured(
        occurred_at=at,
        source="drift@t",
        payload=DriftMeasurement(
            window_id=uuid.uuid4(),
            model=ref(version),
            n=500,
            started_at=at - timedelta(minutes=5),
            ended_at=at,
            statistics=(
                DriftStatistic(name="vocabulary_js", value=score, threshold=0.1, drifted=flag),
            ),
            score=score,
            drifted=flag,
            top_tokens=(
                DriftToken(token="bitcoin", reference_share=0.0, window_share=0.05, weight=3.0),
            ),
        ),
    )


def performance(accuracy: float, version: int = 1, at: datetime = NOW) -> PerformanceMeasured:
    return PerformanceMeasured(
        occurred_at=at,
        source="performance@t",
        payload=PerformanceMeasurement(
            window_id=uuid.uuid4(),
            model=ref(version),
            started_at=at - timedelta(minutes=5),
            ended_at=at,
            metrics=metrics(accuracy),
        ),
    )


def promoted(version: int, previous: int | None, at: datetime = NOW) -> ModelPromoted:
    return ModelPromoted(
        occurred_at=at,
        source="retrainer@t",
        payload=Promotion(
            model_name="spam-classifier",
            version=version,
            previous_version=previous,
            reason="better",
            actor="retrainer",
        ),
    )


def retrain_requested(at: datetime = NOW) -> RetrainRequested:
    return RetrainRequested(
        occurred_at=at,
        source="scheduler@t",
        payload=RetrainRequest(reason="schedule", requested_by="scheduler"),
    )


def compared(
    champion: int,
    challenger: int,
    decision: Literal["promote", "keep"],
    mcc_gain: float = 0.02,
    p: float = 0.2,
    at: datetime = NOW,
) -> ModelCompared:
    return ModelCompared(
        occurred_at=at,
        source="retrainer@t",
        payload=ModelComparison(
            champion=ref(champion, "champion"),
            challenger=ref(challenger, "challenger"),
            champion_metrics=metrics(mcc=0.9),
            challenger_metrics=metrics(mcc=0.9 + mcc_gain),
            evaluation_sets=(EvaluationSet(name="heldout", n=1000),),
            mcnemar=McNemarResult(champion_only_correct=3, challenger_only_correct=6, p_value=p),
            decision=decision,
            reasons=("test",),
            naive_decision="keep",
        ),
    )


def abtest_concluded(
    winner: Literal["champion", "challenger", "none"], at: datetime = NOW
) -> AbTestConcluded:
    return AbTestConcluded(
        occurred_at=at,
        source="abtest@t",
        payload=AbTestConclusion(
            abtest_id=uuid.uuid4(),
            winner=winner,
            reason="significant",
            effect=-0.01,
            ci_low=-0.02,
            ci_high=-0.005,
            p_value=0.01,
            arms=(),
        ),
    )
