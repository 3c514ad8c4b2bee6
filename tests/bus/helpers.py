"""Helpers for bus tests: run a consumer until a condition holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bus.consumer import Consumer


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout_s}s")


async def run_until(
    consumer: Consumer, condition: Callable[[], Awaitable[bool]], timeout_s: float = 10.0
) -> None:
    """Run the consumer in the background until `condition` holds, then stop it cleanly."""
    task = asyncio.create_task(consumer.run())
    try:
        await wait_for(condition, timeout_s)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)
