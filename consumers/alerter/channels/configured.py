"""The channels the settings turn on, checked for completeness.

A channel is on when its address is set (Slack: the webhook URL; e-mail: the SMTP host;
webhook: the URL). One that is on but incomplete is an `AlertConfigError` at start, naming
the setting to fix; messages never include the secret values. None on: alerts are events
only, which is a valid setup (operators read the `alerts` stream; see docs/alerts.md).
"""

from __future__ import annotations

from consumers.alerter.channels.base import Channel
from consumers.alerter.channels.email import EmailChannel
from consumers.alerter.channels.slack import SlackChannel
from consumers.alerter.channels.webhook import WebhookChannel
from consumers.alerter.errors import AlertConfigError
from spamops.settings import AlertSettings

__all__ = ["channel_named", "configured_channels"]

_MIN_SECRET = 16


def _check(settings: AlertSettings) -> None:
    env = "SPAMOPS_ALERTS__"
    slack = settings.slack.webhook_url
    if slack is not None and not slack.get_secret_value().startswith(("https://", "http://")):
        raise AlertConfigError(
            f"{env}SLACK__WEBHOOK_URL is not an http(s) URL; copy the incoming webhook's URL "
            "from Slack (https://hooks.slack.com/services/...)"
        )
    email = settings.email
    if email.host and (not email.sender or not email.to):
        raise AlertConfigError(
            f"e-mail alerts need a sender and recipients: set {env}EMAIL__SENDER and "
            f"{env}EMAIL__TO (comma-separated), or unset {env}EMAIL__HOST"
        )
    if email.host and email.password is not None and not email.username:
        raise AlertConfigError(f"an SMTP password needs {env}EMAIL__USERNAME too")
    hook = settings.webhook
    if hook.url and not hook.url.startswith(("https://", "http://")):
        raise AlertConfigError(f"{env}WEBHOOK__URL is not an http(s) URL")
    if hook.url and (hook.secret is None or len(hook.secret.get_secret_value()) < _MIN_SECRET):
        raise AlertConfigError(
            f"a webhook needs a signing secret of at least {_MIN_SECRET} characters: set "
            f"{env}WEBHOOK__SECRET (e.g. to the output of `openssl rand -hex 32`)"
        )


def configured_channels(settings: AlertSettings) -> list[Channel]:
    """Every channel that is on, in a fixed order (slack, email, webhook)."""
    _check(settings)
    channels: list[Channel] = []
    if settings.slack.webhook_url is not None:
        channels.append(SlackChannel(settings.slack))
    if settings.email.host:
        channels.append(EmailChannel(settings.email))
    if settings.webhook.url:
        channels.append(WebhookChannel(settings.webhook))
    return channels


def channel_named(settings: AlertSettings, name: str) -> Channel | None:
    """The channel called `name` if it is on, else None."""
    return next((c for c in configured_channels(settings) if c.name == name), None)
