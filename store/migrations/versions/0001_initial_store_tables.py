"""Initial store tables: every projection of the streams.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 13:46:59.453574
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "abtests",
        sa.Column("abtest_id", sa.Uuid(), nullable=False),
        sa.Column("started_event_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("model_name", sa.String(), nullable=True),
        sa.Column("champion_version", sa.Integer(), nullable=True),
        sa.Column("challenger_version", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("split", sa.Double(), nullable=True),
        sa.Column("routing_key", sa.String(length=16), nullable=True),
        sa.Column("min_samples", sa.Integer(), nullable=True),
        sa.Column("min_effect", sa.Double(), nullable=True),
        sa.Column("alpha", sa.Double(), nullable=True),
        sa.Column("max_duration_s", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.String(), nullable=True),
        sa.Column("updated_event_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arms", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("p_value", sa.Double(), nullable=True),
        sa.Column("planned_samples", sa.Integer(), nullable=True),
        sa.Column("concluded_event_id", sa.Uuid(), nullable=True),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("winner", sa.String(length=16), nullable=True),
        sa.Column("conclusion_reason", sa.String(length=16), nullable=True),
        sa.Column("effect", sa.Double(), nullable=True),
        sa.Column("ci_low", sa.Double(), nullable=True),
        sa.Column("ci_high", sa.Double(), nullable=True),
        sa.Column("final_p_value", sa.Double(), nullable=True),
        sa.Column("final_arms", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("abtest_id", name=op.f("pk_abtests")),
    )
    op.create_index(op.f("ix_abtests_started_at"), "abtests", ["started_at"])

    op.create_table(
        "alert_deliveries",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index(op.f("ix_alert_deliveries_alert_id"), "alert_deliveries", ["alert_id"])

    op.create_table(
        "alerts",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("source_event_id", sa.Uuid(), nullable=True),
        sa.Column("labels", sa.JSON(none_as_null=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_dedupe_key"), "alerts", ["dedupe_key"])
    op.create_index(op.f("ix_alerts_occurred_at"), "alerts", ["occurred_at"])

    op.create_table(
        "alias_history",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("alias", sa.String(length=16), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("comparison_event_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_alias_history")),
    )
    op.create_index(
        op.f("ix_alias_history_comparison_event_id"), "alias_history", ["comparison_event_id"]
    )
    op.create_index(op.f("ix_alias_history_occurred_at"), "alias_history", ["occurred_at"])

    op.create_table(
        "decisions",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("llm_model", sa.String(), nullable=True),
        sa.Column("prompt_version", sa.String(), nullable=True),
        sa.Column("fell_back", sa.Boolean(), nullable=False),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.Column("input_event_ids", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("target_version", sa.Integer(), nullable=True),
        sa.Column("blocked_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_occurred_at"), "decisions", ["occurred_at"])

    op.create_table(
        "drift_windows",
        sa.Column("window_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("statistics", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("top_tokens", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("examples", sa.JSON(none_as_null=True), nullable=False),
        sa.PrimaryKeyConstraint("window_id", name=op.f("pk_drift_windows")),
    )
    op.create_index(op.f("ix_drift_windows_ended_at"), "drift_windows", ["ended_at"])
    op.create_index(op.f("ix_drift_windows_model_version"), "drift_windows", ["model_version"])

    op.create_table(
        "feedback",
        sa.Column("prediction_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("prediction_id", name=op.f("pk_feedback")),
    )
    op.create_index(op.f("ix_feedback_occurred_at"), "feedback", ["occurred_at"])

    op.create_table(
        "model_comparisons",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("champion_version", sa.Integer(), nullable=False),
        sa.Column("challenger_version", sa.Integer(), nullable=False),
        sa.Column("champion_metrics", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("challenger_metrics", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("evaluation_sets", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("champion_only_correct", sa.Integer(), nullable=False),
        sa.Column("challenger_only_correct", sa.Integer(), nullable=False),
        sa.Column("mcnemar_p", sa.Double(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("naive_decision", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("retrain_request_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_model_comparisons")),
    )
    op.create_index(op.f("ix_model_comparisons_occurred_at"), "model_comparisons", ["occurred_at"])
    op.create_index(
        op.f("ix_model_comparisons_retrain_request_id"), "model_comparisons", ["retrain_request_id"]
    )

    op.create_table(
        "model_versions",
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("metrics", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("training_rows", sa.Integer(), nullable=False),
        sa.Column("feedback_rows", sa.Integer(), nullable=False),
        sa.Column("dataset_sha256", sa.String(length=64), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("retrain_request_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("model_name", "version", name=op.f("pk_model_versions")),
    )
    op.create_index(op.f("ix_model_versions_created_at"), "model_versions", ["created_at"])

    op.create_table(
        "performance_windows",
        sa.Column("window_id", sa.Uuid(), nullable=False),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Double(), nullable=False),
        sa.Column("spam_precision", sa.Double(), nullable=False),
        sa.Column("spam_recall", sa.Double(), nullable=False),
        sa.Column("spam_f1", sa.Double(), nullable=False),
        sa.Column("ham_fpr", sa.Double(), nullable=False),
        sa.Column("mcc", sa.Double(), nullable=False),
        sa.Column("roc_auc", sa.Double(), nullable=True),
        sa.Column("pr_auc", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint(
            "window_id", "model_name", "model_version", name=op.f("pk_performance_windows")
        ),
    )
    op.create_index(op.f("ix_performance_windows_ended_at"), "performance_windows", ["ended_at"])

    op.create_table(
        "predictions",
        sa.Column("prediction_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(), nullable=True),
        sa.Column("client_id", sa.String(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("spam_probability", sa.Double(), nullable=False),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("model_alias", sa.String(length=16), nullable=True),
        sa.Column("variant", sa.String(length=16), nullable=False),
        sa.Column("abtest_id", sa.Uuid(), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("prediction_id", name=op.f("pk_predictions")),
    )
    op.create_index(op.f("ix_predictions_occurred_at"), "predictions", ["occurred_at"])
    op.create_index(op.f("ix_predictions_text_sha256"), "predictions", ["text_sha256"])

    op.create_table(
        "retraining_runs",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_event_id", sa.Uuid(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("requested_by", sa.String(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("trigger_event_ids", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("trained_event_id", sa.Uuid(), nullable=True),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("challenger_version", sa.Integer(), nullable=True),
        sa.Column("challenger_run_id", sa.String(), nullable=True),
        sa.Column("training_rows", sa.Integer(), nullable=True),
        sa.Column("feedback_rows", sa.Integer(), nullable=True),
        sa.Column("compared_event_id", sa.Uuid(), nullable=True),
        sa.Column("compared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("champion_version", sa.Integer(), nullable=True),
        sa.Column("compared_challenger_version", sa.Integer(), nullable=True),
        sa.Column("mcnemar_p", sa.Double(), nullable=True),
        sa.Column("champion_metrics", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("challenger_metrics", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("naive_decision", sa.String(length=16), nullable=True),
        sa.Column("reasons", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("promoted_event_id", sa.Uuid(), nullable=True),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_event_id", sa.Uuid(), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_retraining_runs")),
    )
    op.create_index(
        op.f("ix_retraining_runs_compared_event_id"), "retraining_runs", ["compared_event_id"]
    )
    op.create_index(op.f("ix_retraining_runs_requested_at"), "retraining_runs", ["requested_at"])
    op.create_index(op.f("ix_retraining_runs_status"), "retraining_runs", ["status"])


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table("retraining_runs")
    op.drop_table("predictions")
    op.drop_table("performance_windows")
    op.drop_table("model_versions")
    op.drop_table("model_comparisons")
    op.drop_table("feedback")
    op.drop_table("drift_windows")
    op.drop_table("decisions")
    op.drop_table("alias_history")
    op.drop_table("alerts")
    op.drop_table("alert_deliveries")
    op.drop_table("abtests")
