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
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = [
    "ENVIRONMENT_CONFIG",
    "AgentSettings",
    "AlertChannelSettings",
    "AlertSettings",
    "AlertSeverity",
    "ApiSettings",
    "BusSettings",
    "DashboardSettings",
    "EmailAlertSettings",
    "Environment",
    "LauncherSettings",
    "ModelSettings",
    "MonitoringSettings",
    "RetentionSettings",
    "RetrainSettings",
    "Settings",
    "SlackAlertSettings",
    "StoreSettings",
    "StreamRetention",
    "WebhookAlertSettings",
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
    dedupe_ttl_s: PositiveInt = 24 * 3600
    """How long a group remembers handled event ids (~80 bytes each in Redis). It must
    outlast redeliveries (reclaim idle × max deliveries) and any outage of a whole group:
    an entry still pending after this long may be handled a second time."""
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
    # `spamops data fetch`: where the corpus comes from and the checksum it must have.
    data_url: str = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
    dataset_sha256: str = Field(
        default="7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d",
        pattern=r"^[0-9a-f]{64}$",
    )
    download_timeout_s: float = Field(default=30.0, gt=0)
    # Training: the candidate `spamops train` fits (see `ml.candidates`), CV folds, decision
    # threshold on the spam probability, and whether to render plots into the run.
    candidate: str = "union-logreg"
    cv_folds: int = Field(default=5, ge=2, le=20)
    threshold: float = Field(default=0.5, gt=0, lt=1)
    plots: bool = True
    # `spamops train --search`: candidates whose CV ham false-positive rate exceeds this are
    # not eligible; within one standard error of the best CV MCC the default candidate wins.
    max_ham_fpr: float = Field(default=0.002, ge=0, le=1)
    # Registry: artifact root for local (SQLite/file) tracking stores, default
    # <data_dir>/mlartifacts; how long to wait for an MLflow server before serving from cache.
    artifact_root: str | None = None
    registry_timeout_s: float = Field(default=2.0, gt=0)


class ApiSettings(_Group):
    """The serving API: limits that keep bad input a 4xx, and where it listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_message_chars: PositiveInt = 5_000
    max_batch: PositiveInt = 1_000
    max_body_bytes: PositiveInt = 8_000_000
    """A full batch (1,000 × 5,000 characters of JSON) fits; anything larger is a 413."""
    max_events_page: PositiveInt = 1_000
    model_reload_backoff_s: float = Field(default=2.0, gt=0)
    cors_origins: list[str] = []
    """Closed by default: browsers on other origins may not call the API."""
    docs: bool | None = None
    """Serve /docs and /openapi.json; default: only in development and test."""


DEV_JWT_SECRET = "spamops-development-secret-do-not-use-in-production"  # noqa: S105


class UserConfig(_Group):
    """A principal that may log in at POST /auth/token (password hashed with scrypt)."""

    password_hash: str = Field(pattern=r"^scrypt\$")
    role: Literal["predict", "feedback", "operator", "auditor", "admin"]


class AuthSettings(_Group):
    """JWT and API-key authentication, roles and rate limits (docs/security.md)."""

    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    """HS256 signing secret (>= 32 bytes); refused outside development if default or short."""
    jwt_previous_secrets: list[SecretStr] = []
    """Still accepted for verification while tokens signed with them expire (rotation)."""
    jwt_private_key_file: Path | None = None
    """RS256: PEM private key that signs tokens (only where tokens are issued)."""
    jwt_public_key_files: list[Path] = []
    """RS256: PEM public keys accepted for verification (the current one and older ones)."""
    issuer: str = "spamops"
    audience: str = "spamops-api"
    token_ttl_s: PositiveInt = 3600
    users: dict[str, UserConfig] = {}
    """Log-in principals, e.g. SPAMOPS_AUTH__USERS='{"ops": {"password_hash": "scrypt$...",
    "role": "operator"}}' (hash with `spamops users hash-password`)."""
    api_key_cache_s: float = Field(default=30.0, ge=0)
    """How long a verified API key is trusted before its record is read again (revocation
    takes effect within this time)."""
    rate_limit_per_s: float = Field(default=5000.0, gt=0)
    """Per principal; one SMS gateway key may well send thousands a second."""
    rate_limit_burst: float = Field(default=10000.0, gt=0)
    rate_limit_lease: PositiveInt = 200
    """Tokens a replica takes from the shared Redis bucket at once (fewer Redis calls)."""


class StoreSettings(_Group):
    """The SQL store (projections of the streams); its URL is `database_url`."""

    busy_timeout_ms: PositiveInt = 5_000
    """SQLite: how long a writer waits for another's lock before the write fails."""
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    """SQLite: FULL fsyncs every commit, so an acknowledged event survives a power cut."""
    connect_timeout_s: PositiveInt = 5
    """PostgreSQL: how long to wait for a connection before the write fails (redelivered)."""
    pool_size: PositiveInt = 5
    migrate_on_start: bool = True
    """Consumers run `alembic upgrade head` at start; turn off where a pre-start job does."""
    rebuild_batch_size: PositiveInt = 500


class MonitoringSettings(_Group):
    """Windows of the drift and performance consumers, and the feedback join."""

    drift_window: PositiveInt = 500
    drift_min_window: PositiveInt = 100
    """A time-bounded window is measured only if it holds at least this many predictions."""
    window_max_age_s: float = Field(default=600.0, gt=0)
    """A window older than this is closed early (if it has the minimum size)."""
    target_false_alarm: float = Field(default=0.01, gt=0, lt=1)
    """Drift thresholds are calibrated so that clean windows alarm at this rate."""
    drift_calibration_windows: PositiveInt = 400
    """Clean windows resampled per calibrated window size (once per model version)."""
    drift_reference_sample: PositiveInt = 1000
    """Reference messages the drift domain classifier compares each window with."""
    drift_top_tokens: int = Field(default=10, ge=0)
    """Tokens named in a drifted window's `drift.measured`."""
    drift_examples: int = Field(default=3, ge=0)
    """Example window messages in `drift.measured` (none when events are redacted)."""
    performance_window: PositiveInt = 200
    performance_min_window: PositiveInt = 30
    join_ttl_s: PositiveInt = 3 * 24 * 3600
    """How long a prediction waits for its label (and a label for its prediction)."""
    tick_interval_s: float = Field(default=5.0, gt=0)


class RetrainSettings(_Group):
    """When to retrain, and when a challenger may replace the champion."""

    schedule_cron: str = "0 3 * * 0"
    """Crontab (minute hour day month weekday), UTC. Default: Sundays 03:00."""
    schedule_misfire_grace_s: PositiveInt = 3600
    drift_score_trigger: float = Field(default=0.15, ge=0, le=1)
    accuracy_floor: float = Field(default=0.93, ge=0, le=1)
    cooldown_s: float = Field(default=3600.0, ge=0)
    max_per_day: PositiveInt = 6
    lock_ttl_s: PositiveInt = 1800
    mcnemar_alpha: float = Field(default=0.05, gt=0, lt=1)
    ham_fpr_margin: float = Field(default=0.002, ge=0, le=1)
    """A challenger may not raise the ham false-positive rate by more than this."""
    recent_window: PositiveInt = 500
    """The most recent labelled messages used as a second evaluation set."""


class AgentSettings(_Group):
    """The decision agent: which policy decides, and what it may do (docs/agent.md)."""

    policy: Literal["rule", "llm"] = "rule"
    llm_model: str | None = None
    """For the LLM policy, `provider:model`, e.g. `openai:gpt-4o-mini`, `ollama:llama3.1`."""
    llm_timeout_s: float = Field(default=20.0, gt=0)
    """Bound on one whole LLM decision (every model turn and tool call); then the rules decide."""
    llm_temperature: float | None = Field(default=0.0, ge=0, le=2)
    """`none`: the provider's default (some reasoning models accept no other)."""
    llm_max_steps: PositiveInt = 12
    """Model turns one LLM decision may take (read tools, an action tool, the answer)."""
    rollback_window_s: float = Field(default=24 * 3600.0, ge=0)
    """A champion this new whose quality falls below the floor is rolled back, not retrained."""
    history_days: float = Field(default=2.0, gt=0)
    """How much history the agent replays at start to rebuild what it knows."""

    @field_validator("llm_temperature", mode="before")
    @classmethod
    def _provider_default(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "none", "null"):
            return None
        return value

    @model_validator(mode="after")
    def _model_for_llm(self) -> AgentSettings:
        if self.policy == "llm" and not self.llm_model:
            raise ValueError(
                "SPAMOPS_AGENT__POLICY=llm needs SPAMOPS_AGENT__LLM_MODEL, e.g. "
                "openai:gpt-4o-mini (see docs/agent.md)"
            )
        return self


AlertSeverity = Literal["info", "warning", "critical"]


class AlertChannelSettings(_Group):
    """What every alert channel has: the severities it receives and how hard it tries.

    Each channel retries on its own clock, so a slow or dead channel never holds up another.
    Completeness is checked when the channels are built (`consumers.alerter.channels`), not
    here: a pydantic error would echo the input, and the input holds credentials.
    """

    min_severity: AlertSeverity = "warning"
    attempts: PositiveInt = 3
    timeout_s: float = Field(default=5.0, gt=0)
    """Bound on one attempt: connect, send, answer."""
    backoff_s: float = Field(default=0.5, ge=0)
    """Pause before the second attempt; it doubles (with jitter) up to `backoff_max_s`."""
    backoff_max_s: float = Field(default=5.0, ge=0)
    max_in_flight: PositiveInt = 4
    """Sends at once on this channel, so a burst of alerts opens a few connections, not 100."""


class SlackAlertSettings(AlertChannelSettings):
    """A Slack incoming webhook. Its URL is the credential, so it is a secret."""

    webhook_url: SecretStr | None = None


class EmailAlertSettings(AlertChannelSettings):
    """An SMTP server and who gets the mail. `to` takes a comma-separated list in the env."""

    min_severity: AlertSeverity = "critical"
    timeout_s: float = Field(default=10.0, gt=0)
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    """Default: 465 with `ssl`, 587 with `starttls`, 25 with `none`."""
    security: Literal["starttls", "ssl", "none"] = "starttls"
    """`none` is for a local relay only: credentials and mail then cross the network in clear."""
    username: str | None = None
    password: SecretStr | None = None
    sender: str | None = None
    to: Annotated[tuple[str, ...], NoDecode] = ()
    ca_file: Path | None = None
    """A CA bundle for a server whose certificate a private CA signed."""

    @field_validator("to", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def resolved_port(self) -> int:
        return self.port or {"ssl": 465, "starttls": 587, "none": 25}[self.security]


class WebhookAlertSettings(AlertChannelSettings):
    """A generic HTTP endpoint; every body is HMAC-SHA256 signed with `secret`."""

    min_severity: AlertSeverity = "info"
    url: str | None = None
    secret: SecretStr | None = None


class AlertSettings(_Group):
    """Where alerts go (none configured: they are only events), and how they are thinned."""

    slack: SlackAlertSettings = SlackAlertSettings()
    email: EmailAlertSettings = EmailAlertSettings()
    webhook: WebhookAlertSettings = WebhookAlertSettings()
    dedupe_window_s: PositiveInt = 3600
    """Alerts with the same dedupe key within this long are delivered once."""
    max_age_s: PositiveInt = 24 * 3600
    """An alert older than this when the alerter reaches it (after an outage) is not sent."""
    deadletter_surge: PositiveInt = 100
    """Dead letters of one stream and group within the dedupe window that make it critical."""
    runbook_url: str = "docs/runbooks.md"
    """Base of runbook links in alert bodies, e.g. the file's URL in your Git host."""


class DashboardSettings(_Group):
    """The Streamlit dashboard (`spamops dashboard`): the API it reads, as whom, how often.

    The dashboard talks to the API over HTTP only. Give it a bearer token (a JWT with the
    operator role, e.g. from POST /auth/token) or an API key; without either it offers a
    sign-in form. Both are secrets: never logged, never shown.
    """

    api_url: str = "http://127.0.0.1:8000"
    token: SecretStr | None = None
    """Sent as `Authorization: Bearer <token>`."""
    api_key: SecretStr | None = None
    """Sent as `X-API-Key: <key>` (when no token is set)."""
    timeout_s: float = Field(default=5.0, gt=0)
    """Bound on one API call; a slower API is shown as unreachable, not as a hung page."""
    refresh_s: float = Field(default=2.0, ge=0.5, le=3600)
    """How often the Live page fetches new predictions (the rest refresh on interaction)."""
    live_rows: int = Field(default=50, ge=1, le=1000)
    """Predictions the Live page keeps on screen."""
    host: str = "127.0.0.1"
    port: int = Field(default=8501, ge=1, le=65535)


class AbTestSettings(_Group):
    """A/B tests: defaults of a new test, and the evaluator (docs/abtesting.md)."""

    split: float = Field(default=0.2, gt=0, lt=1)
    """Default share of traffic routed to the challenger."""
    alpha: float = Field(default=0.05, gt=0, lt=1)
    """Default false-winner rate the sequential test guarantees, however often it is read."""
    min_effect: float = Field(default=0.01, gt=0, lt=1)
    """Default smallest difference of error rates worth acting on (plans and futility)."""
    min_samples: PositiveInt = 1000
    """Default labelled samples each arm needs before a test may conclude."""
    max_duration_s: PositiveInt = 7 * 24 * 3600
    power: float = Field(default=0.8, gt=0, lt=1)
    """Power the planned sample size aims for at the minimum effect."""
    baseline_error_rate: float = Field(default=0.02, gt=0, lt=1)
    """Planning assumption (champion error rate, shadow disagreement rate) until measured."""
    update_interval_s: float = Field(default=60.0, gt=0)
    """How often each running test publishes `abtest.updated`."""
    tick_interval_s: float = Field(default=5.0, gt=0)
    """How often the evaluator checks deadlines and due updates."""


class LauncherSettings(_Group):
    """`spamops up`: every process on one machine, supervised (docs/deployment.md).

    The API and dashboard ports are theirs (`api.port`, `dashboard.port`); these are the
    launcher's own: the MLflow UI, the embedded Redis, restarts, stopping, demo tokens.
    """

    mlflow_port: int = Field(default=5000, ge=1, le=65535)
    """Where the MLflow UI listens (over the same tracking store the system uses)."""
    redis_port: int = Field(default=0, ge=0, le=65535)
    """Port of the embedded Redis (when `redis_url` is unset); 0 picks a free one."""
    restart_backoff_s: float = Field(default=1.0, gt=0)
    """Pause before restarting a crashed process; doubles per crash, up to the maximum."""
    restart_backoff_max_s: float = Field(default=30.0, gt=0)
    stable_after_s: float = Field(default=60.0, gt=0)
    """A process that ran this long before it crashed is restarted after the first pause."""
    stop_timeout_s: float = Field(default=40.0, gt=0)
    """How long a process may take to stop after SIGTERM before it is killed (consumers
    drain for up to `bus.shutdown_grace_s`)."""
    ready_timeout_s: float = Field(default=240.0, gt=0)
    """How long to wait for every process to answer its readiness check."""
    token_ttl_s: PositiveInt = 7 * 24 * 3600
    """Lifetime of the demo tokens it prints and gives the dashboard."""
    colour: Literal["auto", "always", "never"] = "auto"
    """Colour the process prefixes of the combined log (auto: when stdout is a terminal)."""
    log_file: Path | None = None
    """Where the combined log is also written; default: <data_dir>/logs/up.log."""


ENVIRONMENT_CONFIG = SettingsConfigDict(
    env_prefix="SPAMOPS_",
    env_nested_delimiter="__",
    env_file=".env",
    env_file_encoding="utf-8",
    extra="ignore",
    frozen=True,
    hide_input_in_errors=True,  # a bad value may be a secret (URLs, passwords, tokens)
)
"""How settings are read from the environment; the dashboard's own settings read it so too."""


class Settings(BaseSettings):
    """Everything configurable. Defaults run the whole system on one machine."""

    model_config = ENVIRONMENT_CONFIG

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
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """Consumers and the scheduler serve Prometheus /metrics on this port (None: off)."""
    instance: str = Field(default_factory=socket.gethostname)
    """Host or replica name stamped into every event's `source`."""

    bus: BusSettings = BusSettings()
    retention: RetentionSettings = RetentionSettings()
    model: ModelSettings = ModelSettings()
    store: StoreSettings = StoreSettings()
    api: ApiSettings = ApiSettings()
    auth: AuthSettings = AuthSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    retrain: RetrainSettings = RetrainSettings()
    agent: AgentSettings = AgentSettings()
    alerts: AlertSettings = AlertSettings()
    dashboard: DashboardSettings = DashboardSettings()
    abtest: AbTestSettings = AbTestSettings()
    launcher: LauncherSettings = LauncherSettings()

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        """Outside development, a default or short JWT secret is a hole, not a default."""
        secret = self.auth.jwt_secret.get_secret_value()
        if (
            self.env != "development"
            and self.auth.jwt_algorithm == "HS256"
            and (secret == DEV_JWT_SECRET or len(secret.encode()) < 32)
        ):
            raise ValueError(
                f"SPAMOPS_ENV={self.env} needs SPAMOPS_AUTH__JWT_SECRET set to a random secret "
                "of at least 32 bytes (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`); the development default is refused"
            )
        return self

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
