"""Shared plumbing of the benchmarks: arguments, percentiles, Redis choice, result files."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    # Benchmarks run with SPAMOPS_ENV=test, where the default JWT secret is refused.
    os.environ.setdefault("SPAMOPS_AUTH__JWT_SECRET", secrets.token_urlsafe(48))
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="finish within 60 s, same keys")
    parser.add_argument("--redis-url", default=None, help="default: 127.0.0.1:6379 or embedded")
    return parser.parse_args(argv)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


def local_redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def bench_redis(stack: contextlib.ExitStack, url: str | None) -> str:
    """The Redis a benchmark uses: `url`, else the local one if it answers, else an embedded
    one without persistence that lives as long as `stack`."""
    if url is not None:
        return url
    if local_redis_answers():
        return "redis://127.0.0.1:6379/0"
    from bus.embedded import EmbeddedRedis

    directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    return stack.enter_context(EmbeddedRedis(directory, persistence="none")).url


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": __import__("os").cpu_count(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return path
