"""Real servers standing in for Slack, a webhook endpoint and a mail server in tests.

`HttpReceiver` is the standard library's threading HTTP server: it records every POST and
can answer the first N with an error, stall past a client's timeout, or ask to retry later.
`SmtpReceiver` is aiosmtpd's threaded controller, optionally with STARTTLS or implicit TLS
(a self-signed certificate made here) and a login.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bus.embedded import free_port


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected here, not an error to print."""


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float
    """`time.perf_counter()` when the request arrived."""


@dataclass
class HttpReceiver:
    """Records POSTs. Tunable while running: fail the first `fail_first` requests with
    `fail_status`, stall `delay_s` before answering, add a `Retry-After` to failures."""

    fail_first: int = 0
    fail_status: int = 500
    fail_body: bytes = b"internal_error"
    delay_s: float = 0.0
    retry_after: str | None = None
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = _QuietServer(("127.0.0.1", free_port()), self._handler_class())
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.02)  # a quick shutdown

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    @property
    def delivered(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.status == 200]

    async def wait_for(self, n: int, timeout_s: float = 5.0) -> list[Request]:
        deadline = time.monotonic() + timeout_s
        while len(self.delivered) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.delivered)} of {n} requests arrived")
            await asyncio.sleep(0.005)
        return self.delivered

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with self._lock:
            failing = len(self.requests) < self.fail_first
            status = self.fail_status if failing else 200
            self.requests.append(Request(path, headers, body, status, time.perf_counter()))
        return status, (self.fail_body if failing else b"ok")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, answer = receiver._answer(self.path, dict(self.headers.items()), body)
                if receiver.delay_s:
                    receiver._release.wait(receiver.delay_s)
                self.send_response(status)
                if status != 200 and receiver.retry_after is not None:
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files (the cert is its own CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class _Collect:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


class SmtpReceiver:
    """A real SMTP server on a free port. `tls`: None (plain), "starttls" or "ssl"."""

    def __init__(
        self,
        *,
        tls: str | None = None,
        cert: tuple[Path, Path] | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.collect = _Collect()
        kwargs: dict[str, Any] = {}
        if tls is not None:
            assert cert is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        if login is not None:
            kwargs.update(authenticator=_Authenticator(*login), auth_required=True)
        self.controller = Controller(
            self.collect, hostname="127.0.0.1", port=self.port, ready_timeout=5, **kwargs
        )

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collect.messages

    async def wait_for(self, n: int, timeout_s: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} of {n} mails arrived")
            await asyncio.sleep(0.005)
        return self.messages

    def __enter__(self) -> Self:
        self.controller.start()
        return self

    def __exit__(
        self, exc: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.controller.stop()


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == self.user
            and data.password == self.password
        )
        return AuthResult(success=ok, handled=False)
