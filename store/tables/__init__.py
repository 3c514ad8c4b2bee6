"""The projection tables (SQLAlchemy 2 declarative models) and their metadata."""

from store.tables.audit import AuditHeadRow, AuditLogRow
from store.tables.base import Base, UTCDateTime
from store.tables.credentials import ApiKeyRow
from store.tables.lifecycle import (
    AliasChangeRow,
    ComparisonRow,
    ModelVersionRow,
    RetrainingRunRow,
    RunStatus,
)
from store.tables.monitoring import DriftWindowRow, PerformanceWindowRow
from store.tables.operations import AbTestRow, AlertDeliveryRow, AlertRow, DecisionRow
from store.tables.traffic import FeedbackRow, PredictionRow

__all__ = [
    "AbTestRow",
    "AlertDeliveryRow",
    "AlertRow",
    "AliasChangeRow",
    "ApiKeyRow",
    "AuditHeadRow",
    "AuditLogRow",
    "Base",
    "ComparisonRow",
    "DecisionRow",
    "DriftWindowRow",
    "FeedbackRow",
    "ModelVersionRow",
    "PerformanceWindowRow",
    "PredictionRow",
    "RetrainingRunRow",
    "RunStatus",
    "UTCDateTime",
]
