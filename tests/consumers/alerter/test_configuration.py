"""Alert settings from the environment, and which channels they turn on."""

from __future__ import annotations

import pytest

from consumers.alerter.channels import (
    EmailChannel,
    SlackChannel,
    WebhookChannel,
    configured_channels,
)
from consumers.alerter.errors import AlertConfigError, AlertError
from spamops.settings import AlertSettings, Settings


def test_channels_come_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SPAMOPS_ALERTS__SLACK__WEBHOOK_URL": "https://hooks.slack.com/services/T/B/tok3n",
        "SPAMOPS_ALERTS__SLACK__MIN_SEVERITY": "critical",
        "SPAMOPS_ALERTS__EMAIL__HOST": "smtp.example.org",
        "SPAMOPS_ALERTS__EMAIL__USERNAME": "alerts",
        "SPAMOPS_ALERTS__EMAIL__PASSWORD": "hunter2-password",
        "SPAMOPS_ALERTS__EMAIL__SENDER": "spamops@example.org",
        "SPAMOPS_ALERTS__EMAIL__TO": "oncall@example.org, ml@example.org",
        "SPAMOPS_ALERTS__WEBHOOK__URL": "https://hooks.example.org/spamops",
        "SPAMOPS_ALERTS__WEBHOOK__SECRET": "0123456789abcdef0123",
        "SPAMOPS_ALERTS__WEBHOOK__ATTEMPTS": "5",
        "SPAMOPS_ALERTS__DEDUPE_WINDOW_S": "900",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    a = settings.alerts
    assert a.email.to == ("oncall@example.org", "ml@example.org")
    assert a.email.resolved_port == 587 and a.email.security == "starttls"
    assert a.slack.min_severity == "critical" and a.webhook.attempts == 5
    assert a.dedupe_window_s == 900
    shown = repr(settings) + str(settings.model_dump())
    for secret in ("tok3n", "hunter2-password", "0123456789abcdef0123"):
        assert secret not in shown
    channels = configured_channels(a)
    assert [type(c) for c in channels] == [SlackChannel, EmailChannel, WebhookChannel]


def test_defaults_turn_nothing_on_and_route_sensibly() -> None:
    a = AlertSettings()
    assert configured_channels(a) == []
    assert (a.slack.min_severity, a.email.min_severity, a.webhook.min_severity) == (
        "warning",
        "critical",
        "info",
    )
    assert AlertSettings.model_validate({"email": {"security": "ssl"}}).email.resolved_port == 465


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ({"slack": {"webhook_url": "hooks.slack.com/T/B/tok3n"}}, "SLACK__WEBHOOK_URL"),
        ({"email": {"host": "smtp.example.org"}}, "EMAIL__TO"),
        (
            {
                "email": {
                    "host": "h",
                    "sender": "a@b",
                    "to": "c@d",
                    "password": "hunter2-password",
                }
            },
            "EMAIL__USERNAME",
        ),
        ({"webhook": {"url": "https://h/x"}}, "WEBHOOK__SECRET"),
        ({"webhook": {"url": "https://h/x", "secret": "short"}}, "WEBHOOK__SECRET"),
        ({"webhook": {"url": "ftp://h/x", "secret": "0" * 32}}, "WEBHOOK__URL"),
    ],
)
def test_half_configured_channels_say_what_to_set(config: dict[str, object], names: str) -> None:
    with pytest.raises(AlertConfigError) as caught:
        configured_channels(AlertSettings.model_validate(config))
    message = str(caught.value)
    assert f"SPAMOPS_ALERTS__{names}" in message and isinstance(caught.value, AlertError)
    for secret in ("tok3n", "hunter2-password", "short"):
        assert secret not in message
