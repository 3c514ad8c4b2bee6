"""A generic webhook: the `alert.raised` event as JSON, HMAC-SHA256 signed, over httpx.

The body is the event exactly as it is on the bus (its JSON Schema is in docs/events), so a
receiver needs no second format. Three headers come with it:

- `X-Spamops-Event-Id`: the alert's id; a receiver dedupes on it (a retry resends it);
- `X-Spamops-Timestamp`: Unix seconds when this attempt was signed;
- `X-Spamops-Signature`: `v1=` + hex HMAC-SHA256 of `<timestamp>.<body>` under the secret.

Signing the timestamp with the body lets a receiver refuse replays: reject a request whose
timestamp is more than a few minutes old, then compare signatures in constant time
(`verify` below does both).
"""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx

from consumers.alerter.channels.base import Channel, http_failure, retry_after
from consumers.alerter.errors import DeliveryError
from schemas.events import AlertRaised
from spamops.settings import WebhookAlertSettings

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookChannel",
    "sign",
    "verify",
]

EVENT_ID_HEADER = "X-Spamops-Event-Id"
TIMESTAMP_HEADER = "X-Spamops-Timestamp"
SIGNATURE_HEADER = "X-Spamops-Signature"


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(
    secret: bytes,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver does: a fresh timestamp and a matching signature, or refuse."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    moment = int(timestamp)
    if abs((time.time() if now is None else now) - moment) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, moment, body), signature)


class WebhookChannel(Channel):
    name = "webhook"

    def __init__(self, config: WebhookAlertSettings) -> None:
        super().__init__(config)
        assert config.url is not None and config.secret is not None
        self._url = config.url
        self._secret = config.secret.get_secret_value().encode()
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.config.timeout_s), follow_redirects=False
            )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        self._client = None

    async def send(self, event: AlertRaised) -> None:
        await self.open()
        assert self._client is not None
        body = event.to_json()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "spamops-alerter",
            EVENT_ID_HEADER: str(event.id),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(
                self.redact(f"webhook: {type(exc).__name__}: {exc}"), retryable=True
            ) from None
        if not response.is_success:
            wait = retry_after(response.headers.get("Retry-After"))
            raise http_failure(self, response.status_code, response.text, wait)

    def redact(self, text: str) -> str:
        return text.replace(self._secret.decode(), "<webhook secret>")
