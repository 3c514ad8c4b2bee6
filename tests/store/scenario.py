"""A small, complete history of the system: every projected event type, linked as in life.

Predictions with feedback (one relabelled, one redacted + imported with its text), drift
and performance windows, two retraining runs (one promoted, one kept), a failed run, a
rollback, decisions, an alert with deliveries and an A/B test from start to conclusion,
plus `access.recorded` (not projected). Event ids are UUIDv7 in creation order.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from schemas.abtests import AbTestConclusion, AbTestStart, AbTestUpdate, ArmStats
from schemas.common import ClassificationMetrics, ModelRef
from schemas.decisions import Decision, RetrainRequest
from schemas.envelope import Envelope
from schemas.events import (
    AbTestConcluded,
    AbTestStarted,
    AbTestUpdated,
    AccessRecorded,
    AlertDelivered,
    AlertRaised,
    DecisionMade,
    DriftMeasured,
    FeedbackReceived,
    ModelCompared,
    ModelPromoted,
    ModelRolledBack,
    ModelTrained,
    PerformanceMeasured,
    PredictionMade,
    RetrainRequested,
)
from schemas.models import (
    EvaluationSet,
    McNemarResult,
    ModelComparison,
    Promotion,
    Rollback,
    TrainedModel,
)
from schemas.monitoring import (
    DriftMeasurement,
    DriftStatistic,
    DriftToken,
    PerformanceMeasurement,
)
from schemas.operations import Access, Alert, AlertDelivery
from schemas.traffic import Feedback, MessageShape, Prediction

NAME = "spam-classifier"
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SRC = "test@host"


def metrics(accuracy: float = 0.97, ham_fpr: float = 0.01) -> ClassificationMetrics:
    return ClassificationMetrics(
        n=1000,
        accuracy=accuracy,
        spam_precision=0.95,
        spam_recall=0.9,
        spam_f1=0.92,
        ham_fpr=ham_fpr,
        mcc=0.9,
        roc_auc=0.99,
    )


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def prediction(
    text: str, *, at: datetime = T0, version: int = 1, redacted: bool = False
) -> PredictionMade:
    return PredictionMade(
        source=SRC,
        occurred_at=at,
        payload=Prediction(
            prediction_id=uuid.uuid4(),
            client_id="gw",
            text=None if redacted else text,
            text_sha256=sha(text),
            token_hashes=(1, 2),
            shape=MessageShape(length=len(text), tokens=2, digits=0, urls=0, uppercase_ratio=0),
            label="spam" if "win" in text else "ham",
            spam_probability=0.9 if "win" in text else 0.1,
            model=ModelRef(name=NAME, version=version, alias="champion"),
            latency_ms=0.4,
        ),
    )


def feedback(
    p: PredictionMade, label: str, *, at: datetime, text: str | None = None
) -> FeedbackReceived:
    return FeedbackReceived(
        source=SRC,
        occurred_at=at,
        payload=Feedback(
            prediction_id=p.payload.prediction_id,
            label=label,  # type: ignore[arg-type]
            source="import" if text else "api",
            text=text,
        ),
    )


def drift(at: datetime, score: float, version: int = 1) -> DriftMeasured:
    return DriftMeasured(
        source=SRC,
        occurred_at=at,
        payload=DriftMeasurement(
            window_id=uuid.uuid4(),
            model=ModelRef(name=NAME, version=version),
            n=500,
            started_at=at - timedelta(minutes=10),
            ended_at=at,
            statistics=(
                DriftStatistic(name="js_tokens", value=score, threshold=0.1, drifted=score > 0.1),
                DriftStatistic(name="oov", value=0.02, threshold=0.05, drifted=False, p_value=0.4),
            ),
            score=score,
            drifted=score > 0.15,
            top_tokens=(
                DriftToken(token="prize", reference_share=0.01, window_share=0.2, weight=1.5),
            ),
            examples=("win a prize",),
        ),
    )


def performance(at: datetime, version: int, accuracy: float) -> PerformanceMeasured:
    return PerformanceMeasured(
        source=SRC,
        occurred_at=at,
        payload=PerformanceMeasurement(
            window_id=uuid.uuid4(),
            model=ModelRef(name=NAME, version=version),
            started_at=at - timedelta(minutes=30),
            ended_at=at,
            metrics=metrics(accuracy),
        ),
    )


def retrain(at: datetime, reason: str = "drift") -> RetrainRequested:
    return RetrainRequested(
        source=SRC,
        occurred_at=at,
        payload=RetrainRequest(
            reason=reason,  # type: ignore[arg-type]
            requested_by="agent",
            trigger_event_ids=(uuid.uuid4(),),
            detail="drift score 0.3",
        ),
    )


def trained(at: datetime, version: int, request: RetrainRequested | None) -> ModelTrained:
    return ModelTrained(
        source=SRC,
        occurred_at=at,
        payload=TrainedModel(
            model=ModelRef(name=NAME, version=version),
            run_id=f"run-{version}",
            metrics=metrics(),
            training_rows=5000,
            feedback_rows=40,
            dataset_sha256=sha(f"data-{version}"),
            duration_s=12.5,
            retrain_request_id=request.id if request else None,
        ),
    )


def compared(
    at: datetime, champion: int, challenger: int, decision: str, request: RetrainRequested | None
) -> ModelCompared:
    return ModelCompared(
        source=SRC,
        occurred_at=at,
        payload=ModelComparison(
            champion=ModelRef(name=NAME, version=champion),
            challenger=ModelRef(name=NAME, version=challenger),
            champion_metrics=metrics(0.95),
            challenger_metrics=metrics(0.975),
            evaluation_sets=(EvaluationSet(name="holdout", n=1115),),
            mcnemar=McNemarResult(
                champion_only_correct=3, challenger_only_correct=21, p_value=0.0003
            ),
            decision=decision,  # type: ignore[arg-type]
            reasons=("significant improvement",),
            naive_decision="promote",
            retrain_request_id=request.id if request else None,
        ),
    )


def promoted(
    at: datetime, version: int, previous: int, comparison: ModelCompared | None
) -> ModelPromoted:
    return ModelPromoted(
        source=SRC,
        occurred_at=at,
        payload=Promotion(
            model_name=NAME,
            version=version,
            previous_version=previous,
            reason="challenger better",
            actor="retrainer",
            comparison_event_id=comparison.id if comparison else None,
        ),
    )


def rolled_back(at: datetime, from_version: int, to_version: int) -> ModelRolledBack:
    return ModelRolledBack(
        source=SRC,
        occurred_at=at,
        payload=Rollback(
            model_name=NAME,
            from_version=from_version,
            to_version=to_version,
            reason="ham FPR up",
            actor="operator@x",
        ),
    )


def decision(at: datetime, action: str, inputs: tuple[uuid.UUID, ...] = ()) -> DecisionMade:
    return DecisionMade(
        source="agent@host",
        occurred_at=at,
        payload=Decision(
            policy="rule",
            input_event_ids=inputs or (uuid.uuid4(),),
            action=action,  # type: ignore[arg-type]
            confidence=0.8,
            rationale=f"rule says {action}",
        ),
    )


def alert(at: datetime, title: str, labels: dict[str, str] | None = None) -> AlertRaised:
    return AlertRaised(
        source=SRC,
        occurred_at=at,
        payload=Alert(
            severity="warning", title=title, body="details", dedupe_key=title, labels=labels or {}
        ),
    )


def delivered(at: datetime, raised: AlertRaised, channel: str, ok: bool) -> AlertDelivered:
    return AlertDelivered(
        source=SRC,
        occurred_at=at,
        payload=AlertDelivery(
            alert_id=raised.id,
            channel=channel,
            ok=ok,
            attempts=1 if ok else 3,
            latency_ms=12.0,
            error=None if ok else "timeout",
        ),
    )


def arms(n: int) -> tuple[ArmStats, ...]:
    return (
        ArmStats(variant="champion", model_version=2, n=n, errors=n // 20, error_rate=0.05),
        ArmStats(variant="challenger", model_version=3, n=n // 4, errors=n // 100, error_rate=0.04),
    )


def abtest(at: datetime) -> list[Envelope]:
    ab = uuid.uuid4()
    champion, challenger = ModelRef(name=NAME, version=2), ModelRef(name=NAME, version=3)
    return [
        AbTestStarted(
            source=SRC,
            occurred_at=at,
            payload=AbTestStart(
                abtest_id=ab, champion=champion, challenger=challenger, started_by="operator@x"
            ),
        ),
        AbTestUpdated(
            source=SRC,
            occurred_at=at + timedelta(minutes=5),
            payload=AbTestUpdate(abtest_id=ab, arms=arms(400), p_value=0.3, planned_samples=2000),
        ),
        AbTestUpdated(
            source=SRC,
            occurred_at=at + timedelta(minutes=10),
            payload=AbTestUpdate(abtest_id=ab, arms=arms(2000), p_value=0.02, planned_samples=2000),
        ),
        AbTestConcluded(
            source=SRC,
            occurred_at=at + timedelta(minutes=11),
            payload=AbTestConclusion(
                abtest_id=ab,
                winner="challenger",
                reason="significant",
                effect=-0.01,
                ci_low=-0.02,
                ci_high=-0.001,
                p_value=0.02,
                arms=arms(2000),
            ),
        ),
    ]


def access(at: datetime) -> AccessRecorded:
    return AccessRecorded(
        source=SRC,
        occurred_at=at,
        payload=Access(principal="p", method="POST", route="/predict", status=200, latency_ms=1),
    )


def history() -> list[Envelope]:
    """The whole story, in the order it happened."""
    m = timedelta(minutes=1)
    spam = prediction("win a prize now", at=T0)
    ham = prediction("see you at lunch", at=T0 + m)
    secret = prediction("win cash, private", at=T0 + 2 * m, redacted=True)
    again = prediction("win a prize now", at=T0 + 3 * m)
    events: list[Envelope] = [spam, ham, secret, again]
    events += [
        feedback(spam, "ham", at=T0 + 4 * m),
        feedback(spam, "spam", at=T0 + 5 * m),  # relabelled: the newer label wins
        feedback(ham, "ham", at=T0 + 5 * m),
        feedback(secret, "spam", at=T0 + 6 * m, text="win cash, private"),
        feedback(again, "spam", at=T0 + 7 * m),
    ]
    events += [drift(T0 + 10 * m, 0.05), drift(T0 + 20 * m, 0.3), performance(T0 + 20 * m, 1, 0.91)]
    first = retrain(T0 + 21 * m)
    events += [decision(T0 + 21 * m, "retrain", (events[-2].id,)), first]
    events += [trained(T0 + 25 * m, 2, first)]
    comparison = compared(T0 + 26 * m, 1, 2, "promote", first)
    events += [comparison, promoted(T0 + 27 * m, 2, 1, comparison)]
    second = retrain(T0 + 40 * m, "schedule")
    events += [second, trained(T0 + 45 * m, 3, second), compared(T0 + 46 * m, 2, 3, "keep", second)]
    failed = retrain(T0 + 50 * m, "manual")
    raised = alert(T0 + 52 * m, "retraining failed", {"retrain_request_id": str(failed.id)})
    events += [failed, raised, delivered(T0 + 53 * m, raised, "slack", False)]
    events += [delivered(T0 + 54 * m, raised, "email", True), alert(T0 + 55 * m, "drift")]
    events += abtest(T0 + 60 * m)
    events += [rolled_back(T0 + 80 * m, 2, 1), performance(T0 + 81 * m, 2, 0.97)]
    events += [trained(T0 + 82 * m, 4, None), access(T0 + 83 * m)]
    return events
