"""A/B routing in the API: which model answers a request while a test runs.

A hash of (test id, routing key) picks the arm, so a client stays on its arm across
replicas and restarts, with no shared state. Each replica follows the `abtests` stream:
`abtest.started` loads the challenger in the background (the test starts routing only
once it is loaded), `abtest.concluded` stops routing. One test at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

from bus.bus import RedisBus
from ml.protocols import ModelSource, ServingModel
from schemas.abtests import AbTestStart
from schemas.catalogue import StreamName
from schemas.common import Variant
from schemas.events import AbTestConcluded, AbTestStarted, Event

__all__ = ["AbTestFollower", "AbTestRouter", "ActiveTest", "arm"]

log = logging.getLogger(__name__)

_SCALE = float(2**64)


def arm(abtest_id: str, key: str, split: float) -> Variant:
    """The arm of `key` in test `abtest_id`: challenger for a `split` share of keys."""
    digest = hashlib.blake2b(f"{abtest_id}:{key}".encode(), digest_size=8).digest()
    return "challenger" if int.from_bytes(digest, "big") / _SCALE < split else "champion"


@dataclass(frozen=True, slots=True)
class ActiveTest:
    spec: AbTestStart
    challenger: ServingModel

    def route(self, client_id: str | None, request_id: str | None) -> Variant:
        if self.spec.mode == "shadow":
            return "champion"
        key = client_id if self.spec.routing_key == "client_id" else request_id
        if key is None:  # no routing key: the champion answers (documented)
            return "champion"
        return arm(str(self.spec.abtest_id), key, self.spec.split)


class AbTestRouter:
    """Holds the running test; replaced atomically like the model holder."""

    def __init__(self) -> None:
        self.current: ActiveTest | None = None


class AbTestFollower:
    def __init__(
        self, bus: RedisBus, router: AbTestRouter, source: ModelSource, backoff_s: float = 2.0
    ) -> None:
        self.bus = bus
        self.router = router
        self.source = source
        self.backoff_s = backoff_s
        self.position = "0-0"

    async def restore(self) -> None:
        """At start: the test still running (started and not concluded), if any."""
        running: AbTestStart | None = None
        async for item in self.bus.replay(StreamName.ABTESTS):
            self.position = item.entry_id
            running = _after(running, item.event)
        if running is not None:
            await self._start(running)

    async def run(self) -> None:
        while True:
            try:
                async for item in self.bus.tail(StreamName.ABTESTS, from_id=self.position):
                    self.position = item.entry_id
                    await self.apply(item.event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("A/B follower: %s; retrying in %.1fs", exc, self.backoff_s)
                await asyncio.sleep(self.backoff_s)

    async def apply(self, event: Event) -> None:
        if isinstance(event, AbTestStarted):
            await self._start(event.payload)
        elif isinstance(event, AbTestConcluded):
            current = self.router.current
            if current is not None and current.spec.abtest_id == event.payload.abtest_id:
                self.router.current = None
                log.info("A/B test %s concluded: routing stopped", event.payload.abtest_id)

    async def _start(self, spec: AbTestStart) -> None:
        challenger = await asyncio.to_thread(self.source.load_version, spec.challenger.version)
        self.router.current = ActiveTest(spec, challenger)
        log.info(
            "A/B test %s: %s of traffic (%s) to v%s",
            spec.abtest_id,
            spec.split,
            spec.mode,
            spec.challenger.version,
        )


def _after(running: AbTestStart | None, event: Event) -> AbTestStart | None:
    if isinstance(event, AbTestStarted):
        return event.payload
    if (
        isinstance(event, AbTestConcluded)
        and running
        and running.abtest_id == event.payload.abtest_id
    ):
        return None
    return running
