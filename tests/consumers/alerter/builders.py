"""Alerts, dead letters, rollbacks and channel settings for alerter tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from schemas.common import Severity
from schemas.events import AlertRaised, EventDeadLettered, ModelRolledBack
from schemas.models import Rollback
from schemas.operations import Alert, DeadLetter
from spamops.settings import (
    AlertSettings,
    EmailAlertSettings,
    SlackAlertSettings,
    WebhookAlertSettings,
)

SECRET = "s3cret-signing-key-0123456789abcdef"
FAST: dict[str, Any] = {"attempts": 3, "timeout_s": 1.0, "backoff_s": 0.01, "backoff_max_s": 0.05}


def alert(
    severity: Severity = "warning",
    key: str | None = None,
    *,
    title: str = "Drift on spam-classifier v3",
    body: str = "Something moved.\n- score 0.42\n\nWhat to do: look.",
    labels: dict[str, str] | None = None,
    at: datetime | None = None,
) -> AlertRaised:
    return AlertRaised(
        source="test@host",
        occurred_at=at or datetime.now(UTC),
        payload=Alert(
            severity=severity,
            title=title,
            body=body,
            dedupe_key=key or f"test:{uuid.uuid4().hex}",
            labels=labels if labels is not None else {"kind": "drift", "model": "spam-classifier"},
        ),
    )


def dead_letter(stream: str = "predictions", group: str = "drift") -> EventDeadLettered:
    return EventDeadLettered(
        source="bus@t",
        payload=DeadLetter(
            stream=stream,
            entry_id="1764158400000-0",
            group=group,
            consumer="drift-1",
            deliveries=5,
            error="ValueError: window is empty",
            fields={"id": "x", "type": "prediction.made", "event": "{}"},
        ),
    )


def rolled_back(from_version: int = 4, to_version: int = 3) -> ModelRolledBack:
    return ModelRolledBack(
        source="agent@t",
        payload=Rollback(
            model_name="spam-classifier",
            from_version=from_version,
            to_version=to_version,
            reason="accuracy 0.88 below the floor 0.93",
            actor="agent@t",
        ),
    )


def slack(url: str, **kw: Any) -> SlackAlertSettings:
    return SlackAlertSettings(webhook_url=SecretStr(url), **{**FAST, **kw})


def webhook(url: str, **kw: Any) -> WebhookAlertSettings:
    return WebhookAlertSettings(url=url, secret=SecretStr(SECRET), **{**FAST, **kw})


def email(port: int, **kw: Any) -> EmailAlertSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "spamops@example.org",
        "to": ("oncall@example.org", "ml@example.org"),
        **FAST,
    }
    values.update(kw)
    return EmailAlertSettings(**values)


def alerts(**kw: Any) -> AlertSettings:
    return AlertSettings(**kw)
