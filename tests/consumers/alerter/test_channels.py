"""Each channel against a real server: what arrives, and how failures are reported."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from bus.embedded import free_port
from consumers.alerter.channels import EmailChannel, SlackChannel, WebhookChannel, verify
from consumers.alerter.retry import deliver
from schemas.events import decode_event
from tests.consumers.alerter import builders as b
from tests.consumers.alerter.receivers import HttpReceiver, SmtpReceiver


async def test_slack_gets_block_kit(http_receiver: HttpReceiver) -> None:
    event = b.alert("critical", body="Score <0.42> & rising\n- statistic: js", labels={"a": "1"})
    channel = SlackChannel(b.slack(http_receiver.url("/services/T0/B0/xyz")))
    try:
        outcome = await deliver(channel, event)
    finally:
        await channel.close()
    assert outcome.ok and outcome.attempts == 1 and outcome.error is None
    (request,) = http_receiver.delivered
    assert request.path == "/services/T0/B0/xyz"
    assert request.headers["Content-Type"].startswith("application/json")
    message = json.loads(request.body)
    assert message["text"] == "[CRITICAL] Drift on spam-classifier v3"
    assert message["unfurl_links"] is False
    header, section, fields, context = message["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert "CRITICAL" in header["text"]["text"] and "Drift on" in header["text"]["text"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "Score &lt;0.42&gt; &amp; rising" in section["text"]["text"]  # mrkdwn escaping
    assert fields["fields"] == [{"type": "mrkdwn", "text": "*a*\n1"}]
    assert context["type"] == "context" and str(event.id) in context["elements"][0]["text"]


async def test_slack_splits_a_long_body_into_sections(http_receiver: HttpReceiver) -> None:
    body = "\n".join(f"- line {i}: " + "x" * 80 for i in range(100))  # ~9,000 characters
    channel = SlackChannel(b.slack(http_receiver.url()))
    try:
        assert (await deliver(channel, b.alert(body=body))).ok
    finally:
        await channel.close()
    blocks = json.loads(http_receiver.delivered[0].body)["blocks"]
    sections = [blk for blk in blocks if blk["type"] == "section" and "text" in blk]
    assert len(sections) >= 4 and all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert "".join(s["text"]["text"] for s in sections) == body  # nothing lost or added


async def test_slack_refusal_is_not_retried_and_names_the_setting(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.fail_first, http_receiver.fail_status = 99, 404
    http_receiver.fail_body = b"no_service"
    url = http_receiver.url("/services/T0/B0/very-secret-token")
    channel = SlackChannel(b.slack(url))
    try:
        outcome = await deliver(channel, b.alert())
    finally:
        await channel.close()
    assert not outcome.ok and outcome.attempts == 1
    assert outcome.error is not None
    assert "404 no_service" in outcome.error and "SPAMOPS_ALERTS__SLACK__" in outcome.error
    assert "very-secret-token" not in outcome.error


async def test_slack_url_never_appears_in_connection_errors() -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T0/B0/very-secret-token"
    channel = SlackChannel(b.slack(url, attempts=2))
    try:
        outcome = await deliver(channel, b.alert())
    finally:
        await channel.close()
    assert not outcome.ok and outcome.attempts == 2
    assert outcome.error and "very-secret-token" not in outcome.error


async def test_webhook_body_is_the_event_signed_with_a_timestamp(
    http_receiver: HttpReceiver,
) -> None:
    event = b.alert("warning")
    channel = WebhookChannel(b.webhook(http_receiver.url()))
    try:
        assert (await deliver(channel, event)).ok
    finally:
        await channel.close()
    (request,) = http_receiver.delivered
    assert decode_event(request.body) == event
    h = request.headers
    assert h["X-Spamops-Event-Id"] == str(event.id)
    assert abs(int(h["X-Spamops-Timestamp"]) - time.time()) < 5
    secret = b.SECRET.encode()
    ts, sig = h["X-Spamops-Timestamp"], h["X-Spamops-Signature"]
    assert sig.startswith("v1=") and verify(secret, request.body, ts, sig)
    assert not verify(secret, request.body.replace(b"warning", b"info"), ts, sig)  # tampered
    assert not verify(b"another-secret-0123456789", request.body, ts, sig)  # wrong key
    assert not verify(secret, request.body, ts, sig, now=int(ts) + 301)  # replayed later
    assert not verify(secret, request.body, str(int(ts) + 1), sig)  # timestamp moved
    assert not verify(secret, request.body, None, sig)


async def test_webhook_honours_retry_after(receivers: Callable[..., HttpReceiver]) -> None:
    receiver = receivers(fail_first=1, fail_status=429, retry_after="0")
    channel = WebhookChannel(b.webhook(receiver.url(), backoff_s=5, backoff_max_s=5))
    started = time.perf_counter()
    try:
        outcome = await deliver(channel, b.alert())
    finally:
        await channel.close()
    assert outcome.ok and outcome.attempts == 2
    assert time.perf_counter() - started < 1  # waited Retry-After (0 s), not the 5 s backoff


async def test_email_has_text_and_html_and_the_severity_in_the_subject(
    smtp_receiver: SmtpReceiver,
) -> None:
    event = b.alert("critical", body="Accuracy <91%> & falling")
    channel = EmailChannel(b.email(smtp_receiver.port))
    try:
        outcome = await deliver(channel, event)
    finally:
        await channel.close()
    assert outcome.ok, outcome.error
    (mail,) = smtp_receiver.messages
    assert mail["Subject"] == "[spamops CRITICAL] Drift on spam-classifier v3"
    assert mail["From"] == "spamops@example.org"
    assert smtp_receiver.collect.envelopes[0][1] == ["oncall@example.org", "ml@example.org"]
    assert mail["X-Spamops-Alert-Id"] == str(event.id)
    assert mail.get_content_type() == "multipart/alternative"
    text_part = mail.get_body(("plain",))
    html_part = mail.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "Accuracy <91%> & falling" in text and str(event.id) in text
    assert "Accuracy &lt;91%&gt; &amp; falling" in html and "<h2" in html


async def test_email_over_starttls_with_login(certificate: tuple[Path, Path]) -> None:
    with SmtpReceiver(tls="starttls", cert=certificate, login=("alerts", "pa55word")) as server:
        config = b.email(
            server.port,
            security="starttls",
            ca_file=certificate[0],
            username="alerts",
            password="pa55word",
        )
        channel = EmailChannel(config)
        try:
            assert (await deliver(channel, b.alert())).ok
            wrong = EmailChannel(config.model_copy(update={"password": SecretStr("wrong-pa55")}))
            refused = await deliver(wrong, b.alert())
        finally:
            await channel.close()
        assert len(server.messages) == 1
    assert not refused.ok and refused.attempts == 1  # a bad password is not retried
    assert refused.error and "PASSWORD" in refused.error and "wrong-pa55" not in refused.error


async def test_email_over_implicit_tls(certificate: tuple[Path, Path]) -> None:
    with SmtpReceiver(tls="ssl", cert=certificate) as server:
        channel = EmailChannel(b.email(server.port, security="ssl", ca_file=certificate[0]))
        try:
            assert (await deliver(channel, b.alert("warning"))).ok
        finally:
            await channel.close()
        assert server.messages[0]["Subject"].startswith("[spamops WARNING]")


async def test_email_with_an_untrusted_certificate_is_refused(
    certificate: tuple[Path, Path],
) -> None:
    with SmtpReceiver(tls="ssl", cert=certificate) as server:
        channel = EmailChannel(b.email(server.port, security="ssl"))  # no ca_file
        outcome = await deliver(channel, b.alert())
        await channel.close()
    assert not outcome.ok and outcome.attempts == 1
    assert outcome.error and "CA_FILE" in outcome.error


def test_routing_by_minimum_severity() -> None:
    channel = WebhookChannel(b.webhook("http://127.0.0.1:1/", min_severity="warning"))
    assert [channel.accepts(s) for s in ("info", "warning", "critical")] == [False, True, True]
