"""A small, known history for the dashboard tests: every kind of event a page shows.

The tests send the newest predictions through `POST /predict`; `background_traffic` is the
half hour before them (redacted, as production runs), with a spam campaign growing and an
A/B test taking a share. This module makes the rest: drift and performance windows, a
retraining with its comparison, promotions, decisions, alerts with deliveries, A/B tests
and a correction by feedback, with times relative to now so that "the last hour" and "in
service since" mean something. Constants name the facts the tests then look for.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from schemas.abtests import AbTestConclusion, AbTestStart, AbTestUpdate, ArmStats
from schemas.decisions import Decision, RetrainRequest
from schemas.events import (
    AbTestConcluded,
    AbTestStarted,
    AbTestUpdated,
    AlertDelivered,
    AlertRaised,
    DecisionMade,
    DriftMeasured,
    Event,
    FeedbackReceived,
    ModelCompared,
    ModelPromoted,
    ModelTrained,
    PerformanceMeasured,
    PredictionMade,
    RetrainRequested,
)
from schemas.models import EvaluationSet, McNemarResult, ModelComparison, Promotion, TrainedModel
from schemas.monitoring import DriftMeasurement, DriftStatistic, DriftToken, PerformanceMeasurement
from schemas.operations import Alert, AlertDelivery
from schemas.traffic import Feedback, MessageShape, Prediction
from tests.consumers.agent.builders import metrics, ref

DRIFT_SCORES = (0.04, 0.06, 0.09, 0.41)
"""Oldest first; only the last window drifted."""
DRIFT_TOKENS = ("bitcoin", "wallet", "crypto")
DRIFT_EXAMPLE = "Your bitcoin wallet is locked: verify now at crypto-safe.example"
STATISTICS = ("vocabulary_js", "oov_rate", "length_psi", "domain_auc")
RETRAIN_DETAIL = "drift score 0.41 over 0.15"
RATIONALE = "Drift score 0.41 exceeds the trigger 0.15 on vocabulary_js and domain_auc"
BLOCKED_RATIONALE = "A retrain was asked for, but the last one ended 20 minutes ago"
ALERT_TITLE = "Drift detected on spam-classifier v2"
FAILED_ALERT_TITLE = "Dead letters on the drift group"
ABTEST_ID = uuid.UUID("0190a000-0000-7000-8000-0000000000ab")
CONCLUDED_ABTEST_ID = uuid.UUID("0190a000-0000-7000-8000-0000000000cd")
PROMOTION_REASON = "challenger v2 beat v1 (McNemar p=0.003)"
BACKGROUND_MINUTES = 30
BACKGROUND_PER_MINUTE = 10
BACKGROUND_SPAM = 90  # 1 spam in the first minutes, up to 5 of 10 in the last ones
BACKGROUND_CHALLENGER = 30  # 2 a minute once the A/B test started, 15 minutes ago
COMPARISON_REASON = "no significant difference (McNemar p=0.21 >= 0.05)"


def background_traffic(now: datetime) -> list[PredictionMade]:
    """Ten predictions in each of the 30 whole minutes before `now`'s, oldest first."""
    out = []
    this_minute = now.replace(second=0, microsecond=0)
    for minute in range(BACKGROUND_MINUTES):
        at = this_minute - timedelta(minutes=BACKGROUND_MINUTES - minute)
        for i in range(BACKGROUND_PER_MINUTE):
            spam = i < 1 + minute // 6
            challenger = minute >= 15 and i % 5 == 4
            digest = hashlib.sha256(f"background {minute} {i}".encode()).hexdigest()
            out.append(
                PredictionMade(
                    occurred_at=at + timedelta(seconds=5 * i),
                    source="api@test",
                    payload=Prediction(
                        prediction_id=uuid.uuid4(),
                        client_id=f"gw-{i % 3}",
                        text_sha256=digest,
                        shape=MessageShape(
                            length=40, tokens=8, digits=0, urls=0, uppercase_ratio=0.05
                        ),
                        label="spam" if spam else "ham",
                        spam_probability=0.93 if spam else 0.04,
                        model=ref(3, "challenger") if challenger else ref(2, "champion"),
                        variant="challenger" if challenger else "champion",
                        abtest_id=ABTEST_ID if challenger else None,
                        latency_ms=0.3 + 0.05 * i,
                    ),
                )
            )
    return out


def _drift(score: float, at: datetime) -> DriftMeasured:
    drifted = score > 0.15
    values = {"vocabulary_js": score, "oov_rate": score / 3, "length_psi": 0.05}
    values["domain_auc"] = 0.5 + score
    thresholds = {"vocabulary_js": 0.12, "oov_rate": 0.08, "length_psi": 0.2, "domain_auc": 0.7}
    tokens = (
        tuple(
            DriftToken(
                token=t, reference_share=0.001 * i, window_share=0.05 - 0.01 * i, weight=3 - i
            )
            for i, t in enumerate(DRIFT_TOKENS)
        )
        if drifted
        else ()
    )
    return DriftMeasured(
        occurred_at=at,
        source="drift@test",
        payload=DriftMeasurement(
            window_id=uuid.uuid4(),
            model=ref(2),
            n=500,
            started_at=at - timedelta(minutes=10),
            ended_at=at,
            statistics=tuple(
                DriftStatistic(
                    name=name,
                    value=values[name],
                    threshold=thresholds[name],
                    drifted=values[name] > thresholds[name],
                )
                for name in STATISTICS
            ),
            score=score,
            drifted=drifted,
            top_tokens=tokens,
            examples=(DRIFT_EXAMPLE,) if drifted else (),
        ),
    )


def _lifecycle(now: datetime) -> list[Event]:
    request = RetrainRequested(
        occurred_at=now - timedelta(minutes=25),
        source="agent@test",
        payload=RetrainRequest(reason="drift", requested_by="agent", detail=RETRAIN_DETAIL),
    )
    trained = [
        ModelTrained(
            occurred_at=now - timedelta(days=2, hours=1) if v == 2 else now - timedelta(minutes=22),
            source="retrainer@test",
            payload=TrainedModel(
                model=ref(v),
                run_id=f"run-v{v}",
                metrics=metrics(accuracy=0.97 + v / 1000, mcc=0.88 + v / 100),
                training_rows=4457 + 50 * v,
                feedback_rows=12 * v,
                dataset_sha256="7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d",
                duration_s=41.5,
                retrain_request_id=request.id if v == 3 else None,
            ),
        )
        for v in (2, 3)
    ]
    compared = ModelCompared(
        occurred_at=now - timedelta(minutes=21),
        source="retrainer@test",
        payload=ModelComparison(
            champion=ref(2, "champion"),
            challenger=ref(3, "challenger"),
            champion_metrics=metrics(accuracy=0.972, mcc=0.9),
            challenger_metrics=metrics(accuracy=0.978, mcc=0.91),
            evaluation_sets=(
                EvaluationSet(name="heldout", n=1115),
                EvaluationSet(name="recent", n=500),
            ),
            mcnemar=McNemarResult(champion_only_correct=4, challenger_only_correct=9, p_value=0.21),
            decision="keep",
            reasons=(COMPARISON_REASON,),
            naive_decision="keep",
            retrain_request_id=request.id,
        ),
    )
    promotions = [
        ModelPromoted(
            occurred_at=now - timedelta(days=2),
            source="retrainer@test",
            payload=Promotion(
                model_name="spam-classifier",
                version=2,
                previous_version=1,
                reason=PROMOTION_REASON,
                actor="retrainer",
            ),
        ),
        ModelPromoted(
            occurred_at=now - timedelta(minutes=20),
            source="retrainer@test",
            payload=Promotion(
                model_name="spam-classifier",
                version=3,
                alias="challenger",
                reason="new challenger from the drift retraining",
                actor="retrainer",
            ),
        ),
    ]
    return [request, *trained, compared, *promotions]


def _decisions(now: datetime, drift: DriftMeasured) -> list[Event]:
    return [
        DecisionMade(
            occurred_at=now - timedelta(minutes=26),
            source="agent@test",
            correlation=drift.id,
            payload=Decision(
                policy="rule",
                input_event_ids=(drift.id,),
                action="retrain",
                confidence=0.92,
                rationale=RATIONALE,
            ),
        ),
        DecisionMade(
            occurred_at=now - timedelta(minutes=5),
            source="agent@test",
            payload=Decision(
                policy="llm",
                llm_model="ollama:llama3.1",
                prompt_version="3",
                input_event_ids=(drift.id,),
                action="wait",
                confidence=0.6,
                rationale=BLOCKED_RATIONALE,
                blocked_by="cooldown",
            ),
        ),
    ]


def _alerts(now: datetime) -> list[Event]:
    raised = AlertRaised(
        occurred_at=now - timedelta(minutes=19),
        source="agent@test",
        payload=Alert(
            severity="critical",
            title=ALERT_TITLE,
            body="Score 0.41.",
            dedupe_key="drift:spam-classifier:2",
        ),
    )
    failed = AlertRaised(
        occurred_at=now - timedelta(minutes=9),
        source="alerter@test",
        payload=Alert(severity="warning", title=FAILED_ALERT_TITLE, dedupe_key="deadletter:drift"),
    )
    deliveries = [
        AlertDelivered(
            occurred_at=now - timedelta(minutes=19),
            source="alerter@test",
            payload=AlertDelivery(
                alert_id=raised.id, channel="slack", ok=True, attempts=1, latency_ms=230.0
            ),
        ),
        AlertDelivered(
            occurred_at=now - timedelta(minutes=8),
            source="alerter@test",
            payload=AlertDelivery(
                alert_id=failed.id,
                channel="email",
                ok=False,
                attempts=3,
                latency_ms=15000.0,
                error="SMTP timeout",
            ),
        ),
    ]
    return [raised, failed, *deliveries]


def _arms(champion_n: int, challenger_n: int) -> tuple[ArmStats, ...]:
    return (
        ArmStats(
            variant="champion",
            model_version=2,
            n=champion_n,
            errors=champion_n // 25,
            error_rate=0.04,
        ),
        ArmStats(
            variant="challenger",
            model_version=3,
            n=challenger_n,
            errors=challenger_n // 40,
            error_rate=0.025,
        ),
    )


def _abtests(now: datetime) -> list[Event]:
    def start(abtest_id: uuid.UUID, at: datetime) -> AbTestStarted:
        return AbTestStarted(
            occurred_at=at,
            source="api@test",
            payload=AbTestStart(
                abtest_id=abtest_id,
                champion=ref(2, "champion"),
                challenger=ref(3, "challenger"),
                started_by="agent",
            ),
        )

    return [
        start(CONCLUDED_ABTEST_ID, now - timedelta(days=1)),
        AbTestConcluded(
            occurred_at=now - timedelta(hours=2),
            source="abtest@test",
            payload=AbTestConclusion(
                abtest_id=CONCLUDED_ABTEST_ID,
                winner="challenger",
                reason="significant",
                effect=-0.015,
                ci_low=-0.024,
                ci_high=-0.006,
                p_value=0.004,
                arms=_arms(8000, 2000),
            ),
        ),
        start(ABTEST_ID, now - timedelta(minutes=15)),
        AbTestUpdated(
            occurred_at=now - timedelta(minutes=1),
            source="abtest@test",
            payload=AbTestUpdate(
                abtest_id=ABTEST_ID, arms=_arms(1200, 300), p_value=0.31, planned_samples=4000
            ),
        ),
    ]


def _performance(now: datetime) -> list[Event]:
    return [
        PerformanceMeasured(
            occurred_at=now - timedelta(minutes=m),
            source="performance@test",
            payload=PerformanceMeasurement(
                window_id=uuid.uuid4(),
                model=ref(2),
                started_at=now - timedelta(minutes=m + 30),
                ended_at=now - timedelta(minutes=m),
                metrics=metrics(accuracy=a),
            ),
        )
        for m, a in ((90, 0.97), (30, 0.95))
    ]


@dataclass
class History:
    """The seeded events, and the ones a test refers to."""

    events: list[Event] = field(default_factory=list)
    misclassified: uuid.UUID | None = None


def history(misclassified: uuid.UUID) -> History:
    """Everything but predictions; `misclassified` is a prediction id that gets a ham label."""
    now = datetime.now(UTC)
    windows = [
        _drift(score, now - timedelta(minutes=20 + 60 * (len(DRIFT_SCORES) - 1 - i)))
        for i, score in enumerate(DRIFT_SCORES)
    ]
    correction = FeedbackReceived(
        source="api@test",
        correlation=misclassified,
        payload=Feedback(prediction_id=misclassified, label="ham"),
    )
    events: list[Event] = [
        *windows,
        *_performance(now),
        *_lifecycle(now),
        *_decisions(now, windows[-1]),
        *_alerts(now),
        *_abtests(now),
        correction,
    ]
    return History(events=events, misclassified=misclassified)
