"""Every call leaves an `access.recorded` event; every response carries security headers.

A pure ASGI middleware (Starlette's BaseHTTPMiddleware costs ~100 µs a request). The event
has who (principal and role, or anonymous), what (method and route template — never the
body, so never a message text or a credential), the status, latency, client address and
request id. The request id is the `X-Request-ID` header, else a new one; it is echoed back
and routes may replace it with a body's `request_id`.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bus.correlation import correlation_id
from schemas.envelope import utcnow
from schemas.events import AccessRecorded
from schemas.operations import Access

__all__ = ["AccessLog"]

_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_DOCS = ("/docs", "/redoc", "/openapi.json")


class AccessLog:
    def __init__(self, app: ASGIApp, source: str) -> None:
        self.app = app
        self.source = source

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        state["request_id"] = request_id
        extra = [*_HEADERS, (b"x-request-id", request_id.encode()[:200])]
        if not scope["path"].startswith(_DOCS):
            extra.append(_CSP)
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        token = correlation_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            correlation_id.reset(token)
            self._record(scope, state, status, started)

    def _record(self, scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
        services = getattr(scope["app"].state, "services", None)
        if services is None:
            return
        principal = state.get("principal")
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        elapsed = time.perf_counter() - started
        services.metrics.observe_request(scope["method"], template, status, elapsed)
        client = scope.get("client")
        services.publisher.enqueue(
            AccessRecorded.model_construct(
                id=(event_id := uuid.uuid4()),
                type="access.recorded",
                schema_version=1,
                occurred_at=_now(),
                source=self.source,
                correlation=event_id,
                payload=Access.model_construct(
                    principal=principal.subject if principal else "anonymous",
                    role=principal.role if principal else None,
                    method=scope["method"],
                    route=getattr(route, "path", None) or scope["path"][:300],
                    status=status,
                    latency_ms=round(elapsed * 1000, 3),
                    client=client[0] if client else None,
                    request_id=str(state.get("request_id"))[:200],
                ),
            )
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))[:200]
    return None


def _now() -> datetime:
    return utcnow()
