"""The alerter crashed (kill -9) and frozen (SIGSTOP past the reclaim idle time) while alerts
are in flight to a real HTTP receiver; the alert raiser crashed among dead letters.

The receiver answers each request after 50 ms, so a member always holds alerts it has begun
and not finished. Killed, its entries are reclaimed by the other member after a second;
frozen, they are reclaimed while it sleeps, and it wakes up and finishes them. Either way
every alert must reach the receiver, and only an alert whose request was already on the
wire when the member died or froze may reach it twice: its member never saw the answer (or
saw it after its timeout), so the other member sends it again — at least once, as
docs/alerts.md promises; the receiver dedupes on `X-Spamops-Event-Id`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import orjson
import pytest

from bus.embedded import EmbeddedRedis
from schemas.catalogue import StreamName
from schemas.events import AlertDelivered
from tests.consumers.alerter import builders
from tests.consumers.alerter.receivers import HttpReceiver
from tests.faults.conftest import StackFactory
from tests.faults.stack import Proc, Stack, wait_until
from tests.faults.traffic import Pacer

pytestmark = [pytest.mark.faults, pytest.mark.redis]

GROUP = "alerter-webhook"
ALERTS = 120
IN_FLIGHT = 4


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver(delay_s=0.05) as server:
        yield server


def _alerter_env(receiver: HttpReceiver) -> dict[str, str]:
    return {
        "SPAMOPS_ALERTS__WEBHOOK__URL": receiver.url(),
        "SPAMOPS_ALERTS__WEBHOOK__SECRET": builders.SECRET,
        "SPAMOPS_ALERTS__WEBHOOK__TIMEOUT_S": "1",
        "SPAMOPS_ALERTS__WEBHOOK__ATTEMPTS": "1",
        "SPAMOPS_ALERTS__WEBHOOK__MAX_IN_FLIGHT": str(IN_FLIGHT),
        # An alert begun by a member that died is retried once its `sending` mark expires
        # (the channel's budget + 5 s): give it enough deliveries to get there.
        "SPAMOPS_BUS__MAX_DELIVERIES": "30",
    }


def _received(receiver: HttpReceiver) -> Counter[str]:
    return Counter(r.headers["X-Spamops-Event-Id"] for r in receiver.delivered)


def _two_members(stack: Stack) -> Proc:
    """Two members of the webhook group; the first is the one the test hurts."""
    first = stack.consume("alerter-webhook", member="alerter-1", wait=False)
    second = stack.consume("alerter-webhook", member="alerter-2", wait=False)
    for proc in (first, second):
        stack.wait_consuming(proc)
    # The group starts at "$": it must exist before the alerts are published.
    wait_until(lambda: stack.has_group(StreamName.ALERTS, GROUP), 10, "the group")
    return first


def _send_alerts(stack: Stack) -> set[str]:
    alerts = [builders.alert("warning") for _ in range(ALERTS)]
    stack.publish(alerts)
    return {str(a.id) for a in alerts}


def _reports(stack: Stack) -> Counter[str]:
    """`alert.delivered` reports per alert id (ok or not)."""
    return Counter(
        str(e.payload.alert_id)
        for e in stack.of_type("alert.delivered")
        if isinstance(e, AlertDelivered)
    )


def test_alerter_killed_with_alerts_in_flight_loses_none(
    redis_aof: EmbeddedRedis, make_stack: StackFactory, receiver: HttpReceiver
) -> None:
    stack = make_stack(redis_aof.url, **_alerter_env(receiver))
    victim = _two_members(stack)
    sent = _send_alerts(stack)
    wait_until(lambda: len(receiver.delivered) >= 10, 20, "the first deliveries")
    held = stack.kill_with_work_in_hand(victim, GROUP, (StreamName.ALERTS,))
    wait_until(
        lambda: set(_received(receiver)) >= sent and stack.caught_up(GROUP, (StreamName.ALERTS,)),
        60,
        f"every alert delivered\n{stack.logs()}",
    )
    received = _received(receiver)
    duplicates = {k: n for k, n in received.items() if n > 1}
    print(f"\nheld at kill: {held}; requests: {sum(received.values())}; resent: {duplicates}")
    assert set(received) == sent, "an alert the receiver never saw, or one nobody sent"
    # A resend is the documented "crash between the answer and the mark", at most the
    # alerts in flight at the kill; the receiver drops it by its event id.
    assert len(duplicates) <= IN_FLIGHT and all(n == 2 for n in duplicates.values())
    assert set(_reports(stack)) == sent


@pytest.mark.xfail(
    strict=False,
    reason=(
        "known bug, open: about one run in two, alerts whose in-flight mark the frozen member "
        "holds are neither sent nor released within 60 s after SIGCONT (the other member "
        "retries them with AlertInFlightError until the mark expires); docs/reliability.md"
    ),
)
def test_alerter_frozen_past_reclaim_sends_each_alert_once(
    redis_aof: EmbeddedRedis, make_stack: StackFactory, receiver: HttpReceiver
) -> None:
    stack = make_stack(redis_aof.url, **_alerter_env(receiver))
    victim = _two_members(stack)
    sent = _send_alerts(stack)
    wait_until(lambda: len(receiver.delivered) >= 10, 20, "the first deliveries")
    held = 0
    while not held:  # freeze it while it holds alerts
        stack.freeze(victim)
        held = stack.pending(StreamName.ALERTS, GROUP, victim.name)
        if not held:
            stack.thaw(victim)
    # Past the reclaim idle time (1 s): the other member claims the frozen one's entries.
    wait_until(
        lambda: stack.pending(StreamName.ALERTS, GROUP, victim.name) < held,
        10,
        "the other member to reclaim the frozen member's alerts",
    )
    thawed_at = time.perf_counter()
    stack.thaw(victim)
    wait_until(
        lambda: set(_received(receiver)) >= sent and stack.caught_up(GROUP, (StreamName.ALERTS,)),
        60,
        f"every alert delivered\n{stack.logs()}",
    )
    received = _received(receiver)
    first_seen: dict[str, float] = {}
    for r in receiver.delivered:
        first_seen.setdefault(r.headers["X-Spamops-Event-Id"], r.at)
    duplicates = {k for k, n in received.items() if n > 1}
    print(f"\nheld when frozen: {held}; resent: {len(duplicates)}")
    assert set(received) == sent
    # Of the alerts the frozen member held, only those whose request it had put on the wire
    # before it froze — at most its `max_in_flight` — may reach the receiver twice: it read
    # no answer in time (its 1 s timeout ran out while it slept), so the other member sent
    # them again. None of the others it held (waiting for a slot), none three times.
    assert len(duplicates) <= IN_FLIGHT
    assert all(first_seen[k] < thawed_at for k in duplicates)
    assert all(n <= 2 for n in received.values())


def test_alert_raiser_killed_mid_stream_alerts_each_group_first_and_at_the_surge(
    redis_aof: EmbeddedRedis, make_stack: StackFactory, receiver: HttpReceiver
) -> None:
    """kill -9 of the alert raiser among dead letters of six (stream, group) pairs: each
    pair still gets its first alert and its surge alert, each delivered once."""
    surge = 6
    stack = make_stack(
        redis_aof.url,
        **_alerter_env(receiver),
        SPAMOPS_ALERTS__DEADLETTER_SURGE=str(surge),
    )
    victim = stack.consume("alert-raiser", member="raiser-1", wait=False)
    webhook = stack.consume("alerter-webhook", member="alerter-1", wait=False)
    for proc in (victim, webhook):
        stack.wait_consuming(proc)
    wait_until(lambda: stack.has_group(StreamName.DEADLETTER, "alert-raiser"), 10, "raiser group")
    wait_until(lambda: stack.has_group(StreamName.ALERTS, GROUP), 10, "webhook group")
    pairs = [(s, g) for s in ("predictions", "feedback") for g in ("drift", "audit", "projector")]
    letters = [builders.dead_letter(s, g) for _ in range(2 * surge) for s, g in pairs]
    pacer = Pacer(stack, letters, rate_per_s=150).start()
    wait_until(
        lambda: stack.acknowledged("alert-raiser", (StreamName.DEADLETTER,)) >= 10, 20, "progress"
    )
    held = stack.kill_with_work_in_hand(victim, "alert-raiser", (StreamName.DEADLETTER,))
    assert not pacer.done, "the dead letters ended before the kill: slow the pacer"
    stack.consume("alert-raiser", member="raiser-2")
    pacer.join()
    keys = {f"deadletter:{s}:{g}{end}" for s, g in pairs for end in ("", ":surge")}
    wait_until(
        lambda: (
            stack.caught_up("alert-raiser", (StreamName.DEADLETTER,))
            and stack.caught_up(GROUP, (StreamName.ALERTS,))
            and _delivered_keys(receiver) >= keys
        ),
        30,
        f"a first and a surge alert for every pair\n{stack.logs()}",
    )
    delivered = Counter(orjson.loads(r.body)["payload"]["dedupe_key"] for r in receiver.delivered)
    raised = Counter(a.payload.dedupe_key for a in stack.of_type("alert.raised"))
    print(f"\nheld at kill: {held}; raised: {sum(raised.values())} for {len(keys)} keys")
    assert set(delivered) == keys and all(n == 1 for n in delivered.values()), delivered
    assert set(raised) == keys  # a crash after publishing may raise one again: suppressed


def _delivered_keys(receiver: HttpReceiver) -> set[str]:
    return {orjson.loads(r.body)["payload"]["dedupe_key"] for r in receiver.delivered}
