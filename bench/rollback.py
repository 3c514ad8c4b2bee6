"""Rollback time: from `POST /models/rollback` until every API replica serves the previous
champion, on real processes (MLflow SQLite store, Redis, two API replicas).

Two versions are trained and registered; v2 is promoted through the API; then the clock
starts, `POST /models/rollback` goes to one replica, and `/predict` is asked of every replica
until each answers with v1 (the others learn of it from `model.rolled_back` on the bus).
The same again with the operator's CLI (`spamops models rollback`, a new process that
imports MLflow), and once with a third replica that never loaded v1 (its own empty model
cache: it fetches v1 from MLflow first). Every `/predict` during the switches must answer
200. Target: ≤ 30 s.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    bench_redis,
    machine,
    parse_args,
    summary,
    write_result,
)
from bench.serve import _env, _process
from bus.embedded import free_port

TARGET_S = 30.0
MESSAGE = {"message": "WINNER!! Claim your prize now: call 09061701461"}


class Replicas:
    """The API replicas, asked which version serves, with every non-200 counted."""

    def __init__(self, urls: list[str], token: str) -> None:
        self.urls = urls
        self.client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10)
        self.errors = 0
        self.requests = 0

    def version(self, url: str) -> int | None:
        self.requests += 1
        response = self.client.post(f"{url}/predict", json=MESSAGE)
        if response.status_code != 200:
            self.errors += 1
            return None
        return int(response.json()["model"]["version"])

    def wait_for(self, version: int, started: float, timeout_s: float = 120.0) -> float:
        """Seconds from `started` until every replica answered `version`."""
        pending = set(self.urls)
        while pending:
            for url in sorted(pending):
                if self.version(url) == version:
                    pending.discard(url)
            if time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"{sorted(pending)} still not on v{version} after {timeout_s} s")
            if pending:
                time.sleep(0.01)
        return time.perf_counter() - started

    def post(self, path: str) -> dict[str, Any]:
        response = self.client.post(f"{self.urls[0]}{path}")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


def _timed(action: Callable[[], object], replicas: Replicas, version: int) -> tuple[float, float]:
    """(seconds the action took, seconds until every replica serves `version`)."""
    started = time.perf_counter()
    action()
    acted = time.perf_counter() - started
    return acted, replicas.wait_for(version, started)


def run(quick: bool, redis_url: str) -> dict[str, Any]:
    api_cycles, cli_cycles, n_replicas = (3, 1, 2) if quick else (10, 3, 2)
    root = Path(tempfile.mkdtemp(prefix="spamops-bench-rollback-"))
    # Two CV folds instead of five: the models only need to exist, the clock is elsewhere.
    env = _env(root, redis_url) | {"SPAMOPS_MODEL__CV_FOLDS": "2"}
    py = sys.executable
    started = time.perf_counter()
    for _ in range(2):  # v1 becomes champion, v2 challenger
        subprocess.run(
            [py, "-m", "spamops", "train"], env=env, check=True, stdout=subprocess.DEVNULL
        )
    train_s = time.perf_counter() - started
    from api.security.tokens import issue_token
    from spamops.settings import Settings

    token = issue_token(Settings(_env_file=None).auth, "bench", "admin", ttl_s=3600)
    result: dict[str, Any] = {"replicas": n_replicas, "train_two_versions_s": round(train_s, 1)}
    with contextlib.ExitStack() as stack:
        urls = []
        for i in range(n_replicas):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            stack.enter_context(
                _process(
                    [py, "-m", "spamops.asgi", "--port", str(port)],
                    env | {"SPAMOPS_BUS__SPOOL_FILE": str(root / f"spool-{i}" / "events.jsonl")},
                    f"{url}/ready",
                    root / f"api-{i}.log",
                    token,
                )
            )
            urls.append(url)
        replicas = Replicas(urls, token)
        assert all(replicas.version(u) == 1 for u in urls), "v1 should serve at start"

        cli = [py, "-m", "spamops", "models", "rollback", "--reason", "bench"]
        promote_s, rollback_s, request_s, cli_s, cli_command_s = [], [], [], [], []
        for cycle in range(api_cycles + cli_cycles):
            acted, switched = _timed(lambda: replicas.post("/models/2/promote"), replicas, 2)
            promote_s.append(switched)
            if cycle < api_cycles:
                acted, switched = _timed(lambda: replicas.post("/models/rollback"), replicas, 1)
                request_s.append(acted)
                rollback_s.append(switched)
                label = "api"
            else:
                acted, switched = _timed(
                    lambda: subprocess.run(cli, env=env, check=True, capture_output=True),
                    replicas,
                    1,
                )
                cli_command_s.append(acted)
                cli_s.append(switched)
                label = "cli"
            print(
                f"cycle {cycle + 1:>2} ({label}): promote {promote_s[-1]:.2f} s, "
                f"rollback {switched:.2f} s (the call itself {acted:.2f} s)"
            )
        # A replica that never served v1 (started after the promotion, its own empty model
        # cache): it must fetch v1 from MLflow (a child process) before it can swap.
        _timed(lambda: replicas.post("/models/2/promote"), replicas, 2)
        port = free_port()
        cold_env = env | {
            "SPAMOPS_MODEL__CACHE_DIR": str(root / "cold-cache"),
            "SPAMOPS_BUS__SPOOL_FILE": str(root / "spool-cold" / "events.jsonl"),
        }
        cold_url = f"http://127.0.0.1:{port}"
        stack.enter_context(
            _process(
                [py, "-m", "spamops.asgi", "--port", str(port)],
                cold_env,
                f"{cold_url}/ready",
                root / "api-cold.log",
                token,
            )
        )
        replicas.urls.append(cold_url)
        assert replicas.version(cold_url) == 2
        _, cold_s = _timed(lambda: replicas.post("/models/rollback"), replicas, 1)
        print(f"rollback with a replica that never loaded v1: {cold_s:.2f} s")
        rollback_s.append(cold_s)
        result |= {
            "cold_replica_rollback_s": round(cold_s, 2),
            "first_operator_action_s": round(promote_s[0], 2),  # the API imports MLflow
            "promote_s": summary(promote_s[1:]),
            "api_rollback_s": summary(rollback_s[:-1]) | {"max": max(rollback_s[:-1])},
            "api_rollback_request_s": summary(request_s),
            "cli_rollback_s": summary(cli_s) | {"max": max(cli_s)},
            "cli_rollback_command_s": summary(cli_command_s),
            "predict_requests": replicas.requests,
            "predict_errors": replicas.errors,
            "target_s": TARGET_S,
        }
    worst = max(rollback_s + cli_s)
    result["worst_rollback_s"] = round(worst, 2)
    result["met"] = worst <= TARGET_S and replicas.errors == 0
    shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> None:
    args = parse_args(__doc__ or "")
    with contextlib.ExitStack() as stack:
        url = bench_redis(stack, args.redis_url)
        started = time.perf_counter()
        result = run(args.quick, url)
    result |= {
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "quick": args.quick,
    }
    for key in (
        "replicas",
        "first_operator_action_s",
        "cold_replica_rollback_s",
        "api_rollback_s",
        "api_rollback_request_s",
        "cli_rollback_s",
        "cli_rollback_command_s",
        "predict_errors",
        "worst_rollback_s",
        "seconds",
    ):
        value = result[key]
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v:.2f}" for k, v in value.items())
        print(f"{key:<24} {value}")
    print(f"target ≤ {TARGET_S:.0f} s {'met' if result['met'] else 'NOT met'}")
    write_result("rollback", result)


if __name__ == "__main__":
    main()
