"""Projections of decisions, alerts (with their deliveries) and A/B tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import Base

__all__ = ["AbTestRow", "AlertDeliveryRow", "AlertRow", "DecisionRow"]


class DecisionRow(Base):
    """One `decision.made`: policy, inputs, action and rationale, enough to replay it."""

    __tablename__ = "decisions"

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str]
    policy: Mapped[str] = mapped_column(String(16))
    llm_model: Mapped[str | None]
    prompt_version: Mapped[str | None]
    fell_back: Mapped[bool]
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    input_event_ids: Mapped[list[Any]]
    action: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float]
    rationale: Mapped[str] = mapped_column(Text)
    target_version: Mapped[int | None]
    blocked_by: Mapped[str | None]


class AlertRow(Base):
    """One `alert.raised`; its deliveries are rows of `alert_deliveries`."""

    __tablename__ = "alerts"

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str]
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str]
    body: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(index=True)
    source_event_id: Mapped[uuid.UUID | None]
    labels: Mapped[dict[str, Any]]


class AlertDeliveryRow(Base):
    """One `alert.delivered` (a channel's attempt). No foreign key: it may come first."""

    __tablename__ = "alert_deliveries"

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(index=True)
    occurred_at: Mapped[datetime]
    channel: Mapped[str]
    ok: Mapped[bool]
    attempts: Mapped[int]
    latency_ms: Mapped[float]
    error: Mapped[str | None] = mapped_column(Text)


class AbTestRow(Base):
    """One A/B test: its start, its latest update and its conclusion, as column groups."""

    __tablename__ = "abtests"

    abtest_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # abtest.started
    started_event_id: Mapped[uuid.UUID | None]
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    model_name: Mapped[str | None]
    champion_version: Mapped[int | None]
    challenger_version: Mapped[int | None]
    mode: Mapped[str | None] = mapped_column(String(16))
    split: Mapped[float | None]
    routing_key: Mapped[str | None] = mapped_column(String(16))
    min_samples: Mapped[int | None]
    min_effect: Mapped[float | None]
    alpha: Mapped[float | None]
    max_duration_s: Mapped[int | None]
    started_by: Mapped[str | None]
    # abtest.updated (the newest)
    updated_event_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime | None]
    arms: Mapped[list[Any] | None]
    p_value: Mapped[float | None]
    planned_samples: Mapped[int | None]
    # abtest.concluded
    concluded_event_id: Mapped[uuid.UUID | None]
    concluded_at: Mapped[datetime | None]
    winner: Mapped[str | None] = mapped_column(String(16))
    conclusion_reason: Mapped[str | None] = mapped_column(String(16))
    effect: Mapped[float | None]
    ci_low: Mapped[float | None]
    ci_high: Mapped[float | None]
    final_p_value: Mapped[float | None]
    final_arms: Mapped[list[Any] | None]
