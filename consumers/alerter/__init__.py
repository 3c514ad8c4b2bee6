"""Alerts: raise them from system events, deliver them to Slack, e-mail and webhooks."""

from consumers.alerter.channels import Channel, channel_named, configured_channels
from consumers.alerter.deliverer import (
    DELIVERERS,
    AlertDeliverer,
    AlerterCounters,
    EmailDeliverer,
    SlackDeliverer,
    WebhookDeliverer,
    make_email_alerter,
    make_slack_alerter,
    make_webhook_alerter,
)
from consumers.alerter.errors import AlertConfigError, AlertError, DeliveryError
from consumers.alerter.raiser import AlertRaiser, make_alert_raiser
from consumers.alerter.retry import Outcome, deliver

__all__ = [
    "DELIVERERS",
    "AlertConfigError",
    "AlertDeliverer",
    "AlertError",
    "AlertRaiser",
    "AlerterCounters",
    "Channel",
    "DeliveryError",
    "EmailDeliverer",
    "Outcome",
    "SlackDeliverer",
    "WebhookDeliverer",
    "channel_named",
    "configured_channels",
    "deliver",
    "make_alert_raiser",
    "make_email_alerter",
    "make_slack_alerter",
    "make_webhook_alerter",
]
