"""Running consumers until SIGTERM/SIGINT, then draining them: what every worker process does.

On the first signal each consumer is asked to stop; each finishes and acknowledges the
batch in hand and returns; the process then exits 0. A second signal is left to the default
handler's fate only after `shutdown_grace_s` has passed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from bus.consumer import Consumer

__all__ = ["run_until_signalled"]

log = logging.getLogger(__name__)


async def run_until_signalled(consumers: Sequence[Consumer], grace_s: float = 30.0) -> int:
    """Run every consumer; return 0 after a clean drain, 1 if one of them crashed."""
    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        log.info("signal received: draining %d consumer(s)", len(consumers))
        for consumer in consumers:
            consumer.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_all)
    try:
        tasks = [asyncio.create_task(c.run(), name=f"consumer-{c.name}") for c in consumers]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = [t for t in done if t.exception() is not None]
        if failed:
            stop_all()
            for task in failed:
                log.error("consumer crashed", exc_info=task.exception())
            await asyncio.wait(tasks, timeout=grace_s)
            return 1
        return 0
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
