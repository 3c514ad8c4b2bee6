"""The one configuration object of spamops.

`Settings` is built once, in the composition root (the CLI, the launcher, the app factory),
and passed down. Nothing in the project reads the environment at import time. Every field
can be set with an environment variable `SPAMOPS_<FIELD>`; nested groups use a double
underscore, e.g. `SPAMOPS_BUS__BATCH_SIZE=500`.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "BusSettings",
    "Environment",
    "ModelSettings",
    "RetentionSettings",
    "Settings",
    "StreamRetention",
    "load_settings",
]

Environment = Literal["development", "test", "production"]


class _Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StreamRetention(_Group):
    """How much of one stream Redis keeps: the newest `maxlen` entries, or `max_age` of them.

    Trimming is approximate (`~`), which lets Redis drop whole radix-tree nodes cheaply.
    """

    maxlen: PositiveInt | None = None
    max_age: timedelta | None = None


class RetentionSettings(_Group):
    """Per-stream retention. High-volume streams are capped by length, the rest by age."""

    predictions: StreamRetention = StreamRetention(maxlen=1_000_000)
    feedback: StreamRetention = StreamRetention(max_age=timedelta(days=90))
    drift: StreamRetention = StreamRetention(max_age=timedelta(days=90))
    decisions: StreamRetention = StreamRetention(max_age=timedelta(days=365))
    models: StreamRetention = StreamRetention(max_age=timedelta(days=365))
    abtests: StreamRetention = StreamRetention(max_age=timedelta(days=365))
    alerts: StreamRetention = StreamRetention(max_age=timedelta(days=90))
    access: StreamRetention = StreamRetention(maxlen=1_000_000)
    deadletter: StreamRetention = StreamRetention(max_age=timedelta(days=30))


class BusSettings(_Group):
    """Delivery behaviour of the Redis Streams bus (publishers and consumer groups)."""

    # Buffered publisher (request paths).
    queue_size: PositiveInt = 100_000
    batch_size: PositiveInt = 500
    flush_interval_ms: PositiveInt = 5
    spool_file: Path | None = None  # default: <data_dir>/spool/events.jsonl
    reconnect_backoff_ms: PositiveInt = 200
    reconnect_backoff_max_ms: PositiveInt = 5_000
    # Consumers.
    read_count: PositiveInt = 100
    block_ms: PositiveInt = 1_000
    reclaim_idle_ms: PositiveInt = 60_000
    reclaim_interval_ms: PositiveInt = 5_000
    max_deliveries: PositiveInt = 5
    concurrency: PositiveInt = 1
    dedupe_ttl_s: PositiveInt = 7 * 24 * 3600
    heartbeat_interval_s: float = Field(default=5.0, gt=0)
    shutdown_grace_s: float = Field(default=30.0, gt=0)
    # Client.
    socket_timeout_s: float = Field(default=5.0, gt=0)
    health_check_interval_s: int = Field(default=15, ge=0)


class ModelSettings(_Group):
    """Training, registry and serving of the classifier."""

    registered_name: str = "spam-classifier"
    experiment: str = "spam-classifier"
    dataset_path: Path | None = None  # default: <data_dir>/sms_spam_collection/SMSSpamCollection
    cache_dir: Path | None = None  # default: <data_dir>/model-cache
    seed: int = 42
    test_size: float = Field(default=0.2, gt=0, lt=1)


class Settings(BaseSettings):
    """Everything configurable. Defaults run the whole system on one machine."""

    model_config = SettingsConfigDict(
        env_prefix="SPAMOPS_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    env: Environment = "development"
    data_dir: Path = Path("data")
    redis_url: str | None = None
    """None starts an embedded Redis (development only)."""
    database_url: str | None = None
    """SQLAlchemy URL; default: a SQLite file in the data directory."""
    mlflow_tracking_uri: str | None = None
    """Default: a SQLite-backed MLflow store in the data directory."""
    stream_prefix: str = "spamops:"
    event_text: Literal["full", "redacted"] = "full"
    instance: str = Field(default_factory=socket.gethostname)
    """Host or replica name stamped into every event's `source`."""

    bus: BusSettings = BusSettings()
    retention: RetentionSettings = RetentionSettings()
    model: ModelSettings = ModelSettings()

    def source(self, component: str) -> str:
        """The `source` of events a component produces, e.g. `api@host-1`."""
        return f"{component}@{self.instance}"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'spamops.db').resolve()}"

    @property
    def resolved_mlflow_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    @property
    def spool_file(self) -> Path:
        return self.bus.spool_file or self.data_dir / "spool" / "events.jsonl"

    @property
    def dataset_path(self) -> Path:
        return self.model.dataset_path or (
            self.data_dir / "sms_spam_collection" / "SMSSpamCollection"
        )

    @property
    def model_cache_dir(self) -> Path:
        return self.model.cache_dir or self.data_dir / "model-cache"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and `.env`), with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
