"""A consumer process for integration tests: records what it handles into Redis.

Each handled event: HINCRBY <prefix>handled <event id> 1 (how often it was handled) and a
sleep of --work-ms (so a kill lands mid-batch). Exits 0 after SIGTERM once drained.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from bus.bus import RedisBus
from bus.connection import connect
from bus.runner import run_until_signalled
from schemas.catalogue import StreamName
from schemas.events import Event
from spamops.settings import BusSettings, Settings


async def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--work-ms", type=float, default=0.0)
    p.add_argument("--read-count", type=int, default=20)
    args = p.parse_args()
    bus_settings = BusSettings(
        block_ms=50,
        reclaim_idle_ms=300,
        reclaim_interval_ms=50,
        read_count=args.read_count,
        heartbeat_interval_s=0.2,
        max_deliveries=5,
    )
    settings = Settings(_env_file=None, env="test", stream_prefix=args.prefix, bus=bus_settings)
    bus = RedisBus(connect(args.url, bus_settings), settings, component="worker")
    handled = f"{args.prefix}handled"

    async def handle(event: Event) -> None:
        await bus.redis.hincrby(handled, str(event.id), 1)
        if args.work_ms:
            await asyncio.sleep(args.work_ms / 1000)

    consumer = bus.consumer(
        group="workers", name=args.name, streams=[StreamName.PREDICTIONS], handler=handle
    )
    code = await run_until_signalled([consumer])
    await bus.close()
    return code


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    raise SystemExit(asyncio.run(main()))
