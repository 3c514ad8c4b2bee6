"""Events for agent tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from schemas.abtests import AbTestConclusion, AbTestStart, ArmStats
from schemas.common import ClassificationMetrics, ModelRef
from schemas.decisions import Action, Decision, RetrainRequest
from schemas.events import (
    AbTestConcluded,
    AbTestStarted,
    DecisionMade,
    DriftMeasured,
    ModelCompared,
    ModelPromoted,
    ModelRolledBack,
    PerformanceMeasured,
    RetrainRequested,
)
from schemas.models import EvaluationSet, McNemarResult, ModelComparison, Promotion, Rollback
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
    fpr_delta: float = 0.0,
) -> ModelCompared:
    return ModelCompared(
        occurred_at=at,
        source="retrainer@t",
        payload=ModelComparison(
            champion=ref(champion, "champion"),
            challenger=ref(challenger, "challenger"),
            champion_metrics=metrics(mcc=0.9),
            challenger_metrics=metrics(mcc=0.9 + mcc_gain, ham_fpr=0.002 + fpr_delta),
            evaluation_sets=(EvaluationSet(name="heldout", n=1000),),
            mcnemar=McNemarResult(champion_only_correct=3, challenger_only_correct=6, p_value=p),
            decision=decision,
            reasons=("test",),
            naive_decision="keep",
        ),
    )


def rolled_back(from_version: int, to_version: int, at: datetime = NOW) -> ModelRolledBack:
    return ModelRolledBack(
        occurred_at=at,
        source="agent@t",
        payload=Rollback(
            model_name="spam-classifier",
            from_version=from_version,
            to_version=to_version,
            reason="worse",
            actor="agent",
        ),
    )


def abtest_started(
    champion: int, challenger: int, at: datetime = NOW, abtest_id: uuid.UUID | None = None
) -> AbTestStarted:
    return AbTestStarted(
        occurred_at=at,
        source="api@t",
        payload=AbTestStart(
            abtest_id=abtest_id or uuid.uuid4(),
            champion=ref(champion, "champion"),
            challenger=ref(challenger, "challenger"),
            started_by="operator",
        ),
    )


def decision_made(
    action: Action, inputs: tuple[uuid.UUID, ...], at: datetime = NOW, target: int | None = None
) -> DecisionMade:
    """A decision on `inputs`, the first being its trigger (its correlation)."""
    return DecisionMade(
        occurred_at=at,
        source="agent@other",
        correlation=inputs[0] if inputs else uuid.uuid4(),
        payload=Decision(
            policy="rule",
            input_event_ids=inputs,
            action=action,
            confidence=0.9,
            rationale="earlier",
            target_version=target,
        ),
    )


def abtest_concluded(
    winner: Literal["champion", "challenger", "none"],
    at: datetime = NOW,
    challenger: int | None = None,
    champion: int = 1,
    abtest_id: uuid.UUID | None = None,
    reason: Literal["significant", "max_duration", "stopped", "futility"] = "significant",
) -> AbTestConcluded:
    """`challenger` puts the tested version into the arms' figures (None: no arms)."""
    arms = (
        ()
        if challenger is None
        else (
            ArmStats(
                variant="champion", model_version=champion, n=5000, errors=150, error_rate=0.03
            ),
            ArmStats(
                variant="challenger", model_version=challenger, n=1250, errors=25, error_rate=0.02
            ),
        )
    )
    return AbTestConcluded(
        occurred_at=at,
        source="abtest@t",
        payload=AbTestConclusion(
            abtest_id=abtest_id or uuid.uuid4(),
            winner=winner,
            reason=reason,
            effect=-0.01,
            ci_low=-0.02,
            ci_high=-0.005,
            p_value=0.01,
            arms=arms,
        ),
    )
