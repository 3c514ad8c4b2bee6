"""The read queries the API calls: typed records, filters and orderings."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from schemas.envelope import Envelope
from store import queries
from store.engine import read_session
from store.records import ComparisonRecord, DriftWindowRecord
from tests.store import scenario
from tests.store.helpers import project

M = timedelta(minutes=1)


@pytest.fixture
def history(engine: Engine) -> list[Envelope]:
    events = scenario.history()
    project(engine, events)
    return events


def test_drift_windows(engine: Engine, history: list[Envelope]) -> None:
    with read_session(engine) as s:
        latest = queries.latest_drift_window(s)
        assert isinstance(latest, DriftWindowRecord)
        assert (latest.score, latest.drifted, latest.model.version) == (0.3, True, 1)
        assert latest.statistics[0].name == "js_tokens" and latest.top_tokens[0].token == "prize"
        assert latest.ended_at.tzinfo is not None and latest.examples == ("win a prize",)
        windows = queries.drift_windows(s, since=scenario.T0)
        assert [w.score for w in windows] == [0.05, 0.3]  # oldest first
        assert [w.score for w in queries.drift_windows(s, limit=1)] == [0.3]  # the newest
        assert queries.drift_windows(s, since=scenario.T0 + 15 * M, until=scenario.T0 + 25 * M)
        assert queries.drift_windows(s, model_version=7) == []
        assert queries.latest_drift_window(s, model_version=7) is None


def test_performance_windows(engine: Engine, history: list[Envelope]) -> None:
    with read_session(engine) as s:
        windows = queries.performance_windows(s)
        assert [(w.model.version, w.metrics.accuracy) for w in windows] == [(1, 0.91), (2, 0.97)]
        assert [w.model.version for w in queries.performance_windows(s, model_version=2)] == [2]
        assert queries.performance_windows(s, since=scenario.T0 + 60 * M)[0].model.version == 2
        assert windows[0].metrics.roc_auc == 0.99 and windows[0].metrics.pr_auc is None


def test_retraining_history(engine: Engine, history: list[Envelope]) -> None:
    with read_session(engine) as s:
        runs = queries.retraining_history(s, limit=10)
        assert [r.status for r in runs] == ["failed", "kept", "promoted"]  # newest first
        failed, kept, promoted = runs
        assert failed.failure == "retraining failed: details" and failed.comparison is None
        assert kept.comparison is not None and kept.comparison.decision == "keep"
        assert promoted.comparison is not None and promoted.comparison.naive_decision == "promote"
        assert promoted.comparison.mcnemar_p == 0.0003 and promoted.challenger_version == 2
        assert promoted.comparison.challenger_metrics.accuracy == 0.975
        assert promoted.promoted_at is not None and promoted.updated_at == promoted.promoted_at
        assert promoted.reason == "drift" and len(promoted.trigger_event_ids) == 1
        assert [r.status for r in queries.retraining_history(s, limit=1)] == ["failed"]
        assert queries.retraining_history(s, status="kept") == [kept]
        assert queries.retraining_run(s, promoted.request_id) == promoted
        assert queries.retraining_run(s, uuid.uuid4()) is None


def test_latest_comparison(engine: Engine, history: list[Envelope]) -> None:
    with read_session(engine) as s:
        latest = queries.latest_comparison(s)
        assert isinstance(latest, ComparisonRecord)
        assert (latest.champion.version, latest.challenger.version, latest.decision) == (
            2,
            3,
            "keep",
        )
        assert latest.mcnemar.challenger_only_correct == 21
        assert latest.evaluation_sets[0].name == "holdout"
        assert queries.latest_comparison(s, model_name="other") is None


def test_models_and_aliases(engine: Engine, history: list[Envelope]) -> None:
    with read_session(engine) as s:
        versions = queries.model_versions(s)
        assert [v.model.version for v in versions] == [4, 3, 2]
        assert {v.model.version: v.aliases for v in versions} == {4: (), 3: (), 2: ()}
        assert queries.current_aliases(s, scenario.NAME) == {"champion": 1}  # rolled back
        changes = queries.alias_history(s)
        assert [(c.kind, c.from_version, c.to_version) for c in changes] == [
            ("rolled_back", 2, 1),
            ("promoted", 1, 2),
        ]
        assert changes[1].comparison_event_id is not None and changes[0].actor == "operator@x"
        assert queries.alias_history(s, alias="challenger") == []
        assert versions[-1].metrics.accuracy == 0.97 and versions[-1].retrain_request_id


def test_decisions_alerts_abtests(engine: Engine, history: list[Envelope]) -> None:
    with read_session(engine) as s:
        [decision] = queries.decisions(s)
        assert (decision.action, decision.policy, decision.source) == (
            "retrain",
            "rule",
            "agent@host",
        )
        assert queries.decisions(s, action="wait") == []
        assert queries.decisions(s, since=scenario.T0 + 22 * M) == []
        drift, failed = queries.alerts(s)
        assert (drift.title, drift.delivery_status, drift.deliveries) == ("drift", "pending", ())
        assert failed.delivery_status == "delivered"
        assert [d.channel for d in failed.deliveries] == ["slack", "email"]
        assert queries.alerts(s, severity="critical") == []
        [ab] = queries.abtests(s)
        assert ab.status == "concluded" and ab.conclusion is not None
        assert ab.conclusion.winner == "challenger" and ab.start is not None
        assert ab.latest is not None and ab.latest.planned_samples == 2000
        assert queries.abtests(s, status="running") == []
        assert queries.abtest(s, ab.abtest_id) == ab


def test_abtest_statuses_and_failed_deliveries(engine: Engine) -> None:
    started, update, _, _ = scenario.abtest(scenario.T0)
    lonely = scenario.abtest(scenario.T0)[1]
    raised = scenario.alert(scenario.T0, "x")
    project(
        engine,
        [started, update, lonely, raised, scenario.delivered(scenario.T0, raised, "slack", False)],
    )
    with read_session(engine) as s:
        assert [a.status for a in queries.abtests(s, status="running")] == ["running"]
        [unknown] = queries.abtests(s, status="unknown")
        assert unknown.start is None and unknown.latest is not None
        assert queries.alerts(s)[0].delivery_status == "failed"


def test_prediction_explain(engine: Engine, history: list[Envelope]) -> None:
    spam = history[0]
    with read_session(engine) as s:
        record = queries.prediction(s, spam.payload.prediction_id)  # type: ignore[attr-defined]
        assert record is not None
        assert (record.text, record.label, record.feedback_label) == (
            "win a prize now",
            "spam",
            "spam",
        )
        assert record.model.version == 1 and record.model.alias == "champion"
        assert record.event_id == spam.id
        assert queries.prediction(s, uuid.uuid4()) is None


def test_predictions_of_a_text_redacted_or_not(engine: Engine, history: list[Envelope]) -> None:
    with read_session(engine) as s:
        found = queries.predictions_of_text(s, scenario.sha("win a prize now"))
        assert [p.event_id for p in found] == [history[3].id, history[0].id]  # newest first
        [secret] = queries.predictions_of_text(s, scenario.sha("win cash, private"))
        assert secret.text is None and secret.feedback_label == "spam"
        assert queries.predictions_of_text(s, scenario.sha("never seen")) == []
