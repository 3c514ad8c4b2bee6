"""Issue 5 end to end: the closed loop with every part a real process.

The API (`python -m spamops.asgi`) and one consumer process (projector, drift,
performance, agent, retrainer) on a real Redis, a SQLite store and an MLflow SQLite store.
Clean traffic, then a new spam campaign with feedback: drift is detected, retraining is
requested, a challenger trained on the feedback is compared and promoted, the API serves
it, and it catches the campaign's held-out messages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis as SyncRedis

from api.security.tokens import issue_token
from bus.embedded import free_port
from producers.scenarios import campaign_messages
from producers.simulate import SimulationPlan, base_pool, catch_rate, simulate
from spamops.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.mlflow, pytest.mark.slow]


@pytest.fixture
def stack_env(tmp_path: Path, redis_url: str, dataset_path: Path) -> Iterator[dict[str, str]]:
    prefix = f"e2e-{uuid.uuid4().hex[:8]}:"
    env = os.environ | {
        "SPAMOPS_ENV": "test",
        "SPAMOPS_DATA_DIR": str(tmp_path / "data"),
        "SPAMOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "SPAMOPS_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "SPAMOPS_REDIS_URL": redis_url,
        "SPAMOPS_STREAM_PREFIX": prefix,
        "SPAMOPS_MODEL__DATASET_PATH": str(dataset_path),
        "SPAMOPS_MODEL__ARTIFACT_ROOT": (tmp_path / "artifacts").as_uri(),
        "SPAMOPS_MODEL__PLOTS": "false",
        "SPAMOPS_MONITORING__DRIFT_WINDOW": "200",
        "SPAMOPS_MONITORING__DRIFT_MIN_WINDOW": "100",
        "SPAMOPS_MONITORING__PERFORMANCE_WINDOW": "100",
        "SPAMOPS_MONITORING__TICK_INTERVAL_S": "1",
        "SPAMOPS_RETRAIN__COOLDOWN_S": "10",
        "SPAMOPS_API__MODEL_RELOAD_BACKOFF_S": "0.5",
        "SPAMOPS_LOG_FORMAT": "text",
    }
    yield env
    client = SyncRedis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_drift_to_retraining_to_promotion_to_hot_reload(
    stack_env: dict[str, str], tmp_path: Path, dataset_path: Path
) -> None:
    started = time.monotonic()
    py = sys.executable
    subprocess.run(
        [py, "-m", "spamops", "train"],
        env=stack_env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    processes = [
        _start([py, "-m", "spamops.asgi", "--port", str(port)], stack_env, tmp_path / "api.log"),
        _start(
            [
                py,
                "-m",
                "spamops",
                "consume",
                "projector",
                "drift",
                "performance",
                "agent",
                "retrainer",
            ],
            stack_env,
            tmp_path / "consumers.log",
        ),
    ]
    os.environ.setdefault("SPAMOPS_AUTH__JWT_SECRET", stack_env["SPAMOPS_AUTH__JWT_SECRET"])
    token = issue_token(Settings(_env_file=None).auth, "e2e", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url + "/ready", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "api.log").read_text()[-3000:]
            time.sleep(0.2)
        held_out = campaign_messages(300, seed=12345)  # never sent: a fresh sample
        before, v_before = asyncio.run(catch_rate(url, held_out, token))
        assert v_before == 1

        base = base_pool(dataset_path)
        plan = SimulationPlan(
            url=url,
            messages=400,
            rate_per_s=150,
            window_size=200,
            feedback_share=1.0,
            feedback_delay_s=0.0,
            concurrency=8,
            token=token,
            seed=1,
        )
        clean = asyncio.run(simulate(plan, base))
        assert clean.errors == 0
        version, rounds = 1, 0
        deadline = time.monotonic() + 150
        while version == 1:
            assert time.monotonic() < deadline, (
                "no promotion; consumers log tail:\n"
                + (tmp_path / "consumers.log").read_text()[-4000:]
            )
            rounds += 1
            report = asyncio.run(
                simulate(
                    dataclasses.replace(
                        plan,
                        messages=200,
                        scenario="new_campaign",
                        onset_window=0,
                        seed=100 + rounds,
                    ),
                    base,
                )
            )
            assert report.errors == 0
            ready = httpx.get(url + "/ready", headers=headers)
            assert ready.status_code == 200, ready.text
            version = ready.json()["model"]["version"]
        after, v_after = asyncio.run(catch_rate(url, held_out, token))
        elapsed = time.monotonic() - started
        print(
            f"\ncampaign caught: v{v_before} {before:.1%} -> v{v_after} {after:.1%} "
            f"after {rounds} rounds of campaign traffic, {elapsed:.0f} s in all"
        )
        assert v_after >= 2 and after >= 0.95 and after > before
        with httpx.Client(base_url=url, headers=headers) as client:
            decisions = client.get("/decisions").json()
            assert any(d["action"] == "retrain" for d in decisions)
            comparison = client.get("/models/comparison").json()
            assert comparison["decision"] == "promote"
            assert client.get("/drift/latest").json()["model"]["version"] in (1, v_after)
    finally:
        for proc in processes:
            proc.terminate()
        # Consumers drain and exit 0; uvicorn shuts down gracefully, then re-raises the
        # SIGTERM it caught (exit -15), as its docs describe.
        for proc, exits in zip(processes, ({0, -15}, {0}), strict=True):
            try:
                code = proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
            assert code in exits, f"{proc.args!r} exited with {code}"
