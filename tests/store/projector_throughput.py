"""How many predictions per second the projector writes to SQLite (not a test: a script).

    .venv/bin/python -m tests.store.projector_throughput [--events 20000] [--redis-url URL]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/DB]

Figures: the projection alone (the transaction the projector runs per read batch), and
end to end through a real Redis consumer group (XREADGROUP, decode, dedupe, one SQL
transaction per read batch, XACK) beside the same consumer with a handler that does
nothing, i.e. the bus's own ceiling in the same run. Target: >= 5,000 predictions/s.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
import time
import uuid
from pathlib import Path

from bus.bus import RedisBus
from bus.connection import connect
from bus.embedded import EmbeddedRedis
from consumers.projector import Projector
from consumers.runner import as_bus_consumer
from schemas.catalogue import StreamName
from schemas.common import ModelRef
from schemas.events import Event, PredictionMade
from schemas.traffic import MessageShape, Prediction
from spamops.settings import BusSettings, Settings, StoreSettings
from store.engine import engine_for_url
from store.migrate import upgrade
from store.projection import Projection

MODEL = ModelRef(name="spam-classifier", version=1, alias="champion")


def predictions(n: int) -> list[PredictionMade]:
    out = []
    for i in range(n):
        text = f"message {i}: call 0800 {i:06d} now to claim your prize"
        out.append(
            PredictionMade(
                source="bench@host",
                payload=Prediction(
                    prediction_id=uuid.uuid4(),
                    request_id=f"r{i}",
                    client_id="gateway-1",
                    text=text,
                    text_sha256=hashlib.sha256(text.encode()).hexdigest(),
                    token_hashes=tuple(range(12)),
                    shape=MessageShape(
                        length=len(text), tokens=9, digits=10, urls=0, uppercase_ratio=0
                    ),
                    label="spam",
                    spam_probability=0.93,
                    model=MODEL,
                    latency_ms=0.7,
                ),
            )
        )
    return out


def projection_only(events: list[PredictionMade], url: str, sync: str, batch: int) -> float:
    options = StoreSettings(sqlite_synchronous="FULL" if sync == "FULL" else "NORMAL")
    engine = engine_for_url(url, options)
    upgrade(engine)
    projection = Projection(engine)
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        projection.project(events[i : i + batch])
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(events) / elapsed


async def end_to_end(
    events: list[PredictionMade],
    directory: Path,
    redis_url: str,
    read_count: int,
    *,
    sql: bool,
    members: int = 1,
) -> float:
    """Through a consumer group; with `sql=False` the handler does nothing (the bus alone)."""
    settings = Settings(
        _env_file=None,
        env="test",
        data_dir=directory / f"data-{uuid.uuid4().hex[:8]}",
        stream_prefix=f"bench-{uuid.uuid4().hex[:8]}:",
        bus=BusSettings(block_ms=50, read_count=read_count),
    )
    bus = RedisBus(connect(redis_url, settings.bus), settings, component="bench")
    projector = Projector(settings)
    seen = 0

    async def nothing(batch: list[Event]) -> None:
        nonlocal seen
        seen += len(batch)

    try:
        for i in range(0, len(events), 1000):
            await bus.publish_many(events[i : i + 1000])
        await projector.start()
        if sql:
            consumers = [as_bus_consumer(projector, bus, f"bench-{i}") for i in range(members)]
        else:
            consumers = [
                bus.consumer(
                    group="bench",
                    name="bench-1",
                    streams=[StreamName.PREDICTIONS],
                    handler=lambda e: nothing([e]),
                    batch_handler=nothing,
                )
            ]
        started = time.perf_counter()
        tasks = [asyncio.create_task(c.run()) for c in consumers]
        while (projector.projected if sql else seen) < len(events):
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        for consumer in consumers:
            consumer.stop()
        await asyncio.gather(*tasks)
        return len(events) / elapsed
    finally:
        await projector.close()
        async for key in bus.redis.scan_iter(match=f"{settings.stream_prefix}*"):
            await bus.redis.delete(key)
        await bus.close()


def _through_redis(events: list[PredictionMade], directory: Path, redis_url: str) -> None:
    for read_count, sql, members in ((100, False, 1), (100, True, 1), (500, True, 1)):
        rate = asyncio.run(
            end_to_end(events, directory, redis_url, read_count, sql=sql, members=members)
        )
        what = "Redis -> projector -> SQLite" if sql else "Redis -> no-op handler (bus alone)"
        print(
            f"{what}, read_count {read_count}, {members} group member(s): {rate:,.0f} predictions/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--redis-url", default=None, help="default: an embedded redis-server")
    parser.add_argument("--postgres-url", default=None, help="an empty PostgreSQL database")
    args = parser.parse_args()
    events = predictions(args.events)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for batch in (100, 500):
            url = f"sqlite:///{directory / f'only-{batch}.db'}"
            rate = projection_only(events, url, "FULL", batch)
            print(f"projection only, SQLite, batch {batch}: {rate:,.0f} predictions/s")
        if args.postgres_url:
            rate = projection_only(events, args.postgres_url, "FULL", 100)
            print(f"projection only, PostgreSQL, batch 100: {rate:,.0f} predictions/s")
        if args.redis_url:
            _through_redis(events, directory, args.redis_url)
        else:
            with EmbeddedRedis(directory / "redis", persistence="none") as server:
                _through_redis(events, directory, server.url)


if __name__ == "__main__":
    main()
