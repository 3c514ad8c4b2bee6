"""Slack: an incoming webhook, posted with slack_sdk's `AsyncWebhookClient`, as Block Kit.

The message is a header (severity and title), the body in mrkdwn sections, the labels as
fields, and a context line with the alert id and dedupe key; `text` is the notification
fallback. The SDK's own retry handlers are switched off (ours count the attempts), and its
logger is held at WARNING, because at DEBUG it logs the webhook URL, which is the secret.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.webhook.async_client import AsyncWebhookClient

from consumers.alerter.channels.base import (
    Channel,
    facts,
    http_failure,
    retry_after,
    severity_label,
)
from consumers.alerter.errors import DeliveryError
from schemas.events import AlertRaised
from spamops.settings import SlackAlertSettings

__all__ = ["SlackChannel", "slack_blocks"]

_SECTION_CHARS = 2900  # Slack's limit on a section's text is 3,000
_MAX_FIELDS = 10


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chunks(text: str, size: int) -> list[str]:
    """Split at line ends where possible, so a long body becomes several sections."""
    out: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            out.extend([current, line[:size]] if current else [line[:size]])
            current, line = "", line[size:]
        if len(current) + len(line) > size:
            out.append(current)
            current = ""
        current += line
    if current.strip():
        out.append(current)
    return [c for c in out if c.strip()]


def slack_blocks(event: AlertRaised) -> list[dict[str, Any]]:
    """The Block Kit blocks of one alert."""
    alert = event.payload
    header = f"{severity_label(alert.severity)}: {alert.title}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:150], "emoji": True}},
    ]
    for chunk in _chunks(_escape(alert.body), _SECTION_CHARS)[:40]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    if alert.labels:
        fields = [
            {"type": "mrkdwn", "text": f"*{_escape(k)}*\n{_escape(v)}"[:2000]}
            for k, v in sorted(alert.labels.items())[:_MAX_FIELDS]
        ]
        blocks.append({"type": "section", "fields": fields})
    shown = {"raised", "source", "alert id", "dedupe key"}
    context = " · ".join(f"{k}: `{_escape(v)}`" for k, v in facts(event) if k in shown)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context[:3000]}]})
    return blocks


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("consumers.alerter.slack_sdk")
    logger.setLevel(logging.WARNING)  # the SDK logs URL and body when its level is DEBUG
    return logger


class SlackChannel(Channel):
    name = "slack"

    def __init__(self, config: SlackAlertSettings) -> None:
        super().__init__(config)
        assert config.webhook_url is not None
        self._url = config.webhook_url.get_secret_value()
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebhookClient | None = None

    async def open(self) -> None:
        if self._client is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_s)
            )
            self._client = AsyncWebhookClient(
                self._url, session=self._session, retry_handlers=[], logger=_quiet_logger()
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = self._client = None

    async def send(self, event: AlertRaised) -> None:
        await self.open()
        assert self._client is not None
        alert = event.payload
        try:
            response = await self._client.send(
                text=f"[{alert.severity.upper()}] {alert.title}",
                blocks=slack_blocks(event),
                unfurl_links=False,
                unfurl_media=False,
            )
        except aiohttp.ClientError as exc:
            raise DeliveryError(
                self.redact(f"slack: {type(exc).__name__}: {exc}"), retryable=True
            ) from None
        if response.status_code != 200:
            wait = retry_after(response.headers.get("Retry-After"))
            raise http_failure(self, response.status_code, str(response.body or ""), wait)

    def redact(self, text: str) -> str:
        return text.replace(self._url, "<slack webhook url>")
