"""Several audit consumers (replicas of one group) writing one PostgreSQL log: one chain.

Real Redis, real PostgreSQL, each replica with its own engine as separate processes would
have; small read batches so that their appends interleave.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from bus.bus import RedisBus
from consumers.audit import AuditLogger
from consumers.runner import as_bus_consumer
from schemas.envelope import Envelope
from spamops.settings import Settings
from store.audit.verify import verify_database
from store.engine import read_session
from store.tables import AuditLogRow
from tests.conftest import FAST_BUS
from tests.factories import prediction
from tests.store.test_audit_story import T0, accessed, story

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def settings(make_settings: Callable[..., Settings], postgres_url: str) -> Settings:
    return make_settings(
        database_url=postgres_url, bus=FAST_BUS.model_copy(update={"read_count": 5})
    )


async def test_replicas_share_one_unforked_chain(settings: Settings, redis_bus: RedisBus) -> None:
    replicas = [AuditLogger(settings), AuditLogger(settings)]
    for replica in replicas:
        await replica.start()
    consumers = [as_bus_consumer(r, redis_bus, f"audit-{i}") for i, r in enumerate(replicas)]
    tasks = [asyncio.create_task(c.run()) for c in consumers]
    events: list[Envelope] = list(story().events)
    for i in range(150):
        events += [prediction(f"m{i}"), accessed(T0, f"req-{i}")]
    try:
        for wave in range(0, len(events), 40):  # published while both replicas read
            await redis_bus.publish_many(events[wave : wave + 40])
            # Some twice, in a millisecond of their own: until the bus keys its done-marks
            # by stream too, a duplicate hides a new event with the same entry id in another
            # stream (tests/consumers/test_audit.py pins that bug).
            await asyncio.sleep(0.003)
            await redis_bus.publish_many(events[wave : wave + 3])
            await asyncio.sleep(0.01)
        async with asyncio.timeout(60):  # generous: CI machines share their cores
            while sum(r.appended for r in replicas) < len(events):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # time for a stray duplicate to show up, if any could
        engine = replicas[0].engine
        with read_session(engine) as session:
            assert session.scalar(select(func.count()).select_from(AuditLogRow)) == len(events)
        result = verify_database(engine)
        assert result.ok and result.checked == len(events)
        assert all(r.appended > 0 for r in replicas), [r.appended for r in replicas]
    finally:
        for consumer in consumers:
            consumer.stop()
        await asyncio.gather(*tasks)
        for replica in replicas:
            await replica.close()
