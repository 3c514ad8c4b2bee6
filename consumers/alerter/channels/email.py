"""E-mail over SMTP (STARTTLS, implicit TLS, or plain for a local relay), text + HTML.

smtplib runs in a small thread pool of the channel's own (`max_in_flight` threads), so a
slow mail server never occupies the event loop's default executor that other work shares.
aiosmtplib would avoid the threads but is one more dependency for a few mails an hour.
A timed-out attempt cannot stop its thread; the socket timeout ends it, and if the server
accepted the mail meanwhile, the retry sends a second copy (rare, and better than none).
"""

from __future__ import annotations

import asyncio
import html
import smtplib
import ssl
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from consumers.alerter.channels.base import Channel, facts, severity_label
from consumers.alerter.errors import DeliveryError
from schemas.events import AlertRaised
from spamops.settings import EmailAlertSettings

__all__ = ["EmailChannel", "compose"]

_COLOURS = {"info": "#2f6fb3", "warning": "#c77800", "critical": "#c62828"}


def _html(event: AlertRaised) -> str:
    alert = event.payload
    rows = "".join(
        f'<tr><td style="color:#555;padding:2px 12px 2px 0">{html.escape(k)}</td>'
        f"<td><code>{html.escape(v)}</code></td></tr>"
        for k, v in facts(event)
    )
    colour = _COLOURS[alert.severity]
    return (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f'<div style="border-left:6px solid {colour};padding:4px 12px">'
        f'<p style="color:{colour};font-weight:bold;margin:0">{alert.severity.upper()}</p>'
        f'<h2 style="margin:4px 0 12px">{html.escape(alert.title)}</h2>'
        f'<pre style="font-family:inherit;white-space:pre-wrap">{html.escape(alert.body)}</pre>'
        f'<table style="font-size:90%;margin-top:12px">{rows}</table>'
        "</div></body></html>"
    )


def _text(event: AlertRaised) -> str:
    alert = event.payload
    table = "\n".join(f"{k + ':':<14}{v}" for k, v in facts(event))
    return f"{severity_label(alert.severity)}: {alert.title}\n\n{alert.body}\n\n--\n{table}\n"


def compose(event: AlertRaised, config: EmailAlertSettings) -> EmailMessage:
    """The message for one alert: the severity in the subject, a text and an HTML part."""
    assert config.sender is not None
    alert = event.payload
    message = EmailMessage()
    message["Subject"] = f"[spamops {alert.severity.upper()}] {alert.title}"
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["Date"] = formatdate(usegmt=True)
    domain = config.sender.rpartition("@")[2] or "spamops.local"
    message["Message-ID"] = make_msgid(idstring=str(event.id), domain=domain)
    message["X-Spamops-Alert-Id"] = str(event.id)
    message["X-Spamops-Severity"] = alert.severity
    message["X-Spamops-Dedupe-Key"] = alert.dedupe_key
    message.set_content(_text(event))
    message.add_alternative(_html(event), subtype="html")
    return message


def _classify(exc: Exception, env: str) -> DeliveryError:
    """Permanent (configuration) failures are not retried; network and 4xx replies are."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryError(
            f"email: the server refused the login ({exc.smtp_code}); "
            f"check {env}USERNAME and {env}PASSWORD",
            retryable=False,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryError(
            f"email: {exc}; the server offers no STARTTLS or AUTH here: check {env}SECURITY "
            f"(starttls, ssl or none) and {env}PORT",
            retryable=False,
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return DeliveryError(f"email: every recipient was refused; check {env}TO", retryable=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        raw = exc.smtp_error
        message = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")
        return DeliveryError(
            f"email: SMTP {exc.smtp_code} {message[:200]}", retryable=exc.smtp_code < 500
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryError(
            f"email: the server's certificate did not verify ({exc.verify_message}); "
            f"set {env}CA_FILE to its CA bundle",
            retryable=False,
        )
    return DeliveryError(f"email: {type(exc).__name__}: {exc}", retryable=True)


class EmailChannel(Channel):
    name = "email"
    config: EmailAlertSettings

    def __init__(self, config: EmailAlertSettings) -> None:
        super().__init__(config)
        self._executor: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.config.max_in_flight, thread_name_prefix="alert-smtp"
            )

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = None

    async def send(self, event: AlertRaised) -> None:
        await self.open()
        message = compose(event, self.config)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._send_blocking, message)

    def _send_blocking(self, message: EmailMessage) -> None:
        c = self.config
        assert c.host is not None
        context = ssl.create_default_context(cafile=str(c.ca_file) if c.ca_file else None)
        try:
            smtp: smtplib.SMTP
            if c.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    c.host, c.resolved_port, timeout=c.timeout_s, context=context
                )
            else:
                smtp = smtplib.SMTP(c.host, c.resolved_port, timeout=c.timeout_s)
            with smtp:
                if c.security == "starttls":
                    smtp.starttls(context=context)
                if c.username and c.password is not None:
                    smtp.login(c.username, c.password.get_secret_value())
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise self._redacted(_classify(exc, self.env)) from None

    def _redacted(self, error: DeliveryError) -> DeliveryError:
        error.args = (self.redact(str(error)),)
        return error

    def redact(self, text: str) -> str:
        password = self.config.password
        if password is None or not password.get_secret_value():
            return text
        return text.replace(password.get_secret_value(), "<smtp password>")
