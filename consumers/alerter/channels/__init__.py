"""Alert channels: Slack, e-mail and a signed generic webhook, and which of them are on."""

from consumers.alerter.channels.base import SEVERITY_RANK, Channel
from consumers.alerter.channels.configured import channel_named, configured_channels
from consumers.alerter.channels.email import EmailChannel, compose
from consumers.alerter.channels.slack import SlackChannel, slack_blocks
from consumers.alerter.channels.webhook import WebhookChannel, sign, verify

__all__ = [
    "SEVERITY_RANK",
    "Channel",
    "EmailChannel",
    "SlackChannel",
    "WebhookChannel",
    "channel_named",
    "compose",
    "configured_channels",
    "sign",
    "slack_blocks",
    "verify",
]
