"""Serving throughput and latency, side by side on one machine, one worker each:

- `mlflow models serve` of the registered champion (`--env-manager local`);
- a minimal FastAPI wrapper around the same sklearn pipeline (bench/servers/baseline_app);
- spamops `/predict`, publishing every prediction to Redis.

Load comes from wrk (a separate process on loopback) at concurrency 1, 8 and 64, with a
Lua script cycling through held-out corpus messages. Also: `/predict/batch` messages/s,
the spamops worker's RSS, and its start-up time to the first 200 with a cached model.
Targets: ≥ 10× MLflow's req/s at c=64; p99 ≤ 5 ms at c=8; RSS ≤ 400 MB; start-up ≤ 3 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.harness import bench_redis, machine, parse_args, write_result
from bus.embedded import free_port

REPO = Path(__file__).resolve().parent.parent
DATASET = REPO.parent / "shared" / "data" / "sms_spam_collection" / "SMSSpamCollection"
LEVELS = (1, 8, 64)


def _env(root: Path, redis_url: str) -> dict[str, str]:
    dataset = REPO / "data" / "sms_spam_collection" / "SMSSpamCollection"
    return os.environ | {
        "SPAMOPS_ENV": "test",
        "SPAMOPS_DATA_DIR": str(root / "data"),
        "SPAMOPS_MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "SPAMOPS_REDIS_URL": redis_url,
        "SPAMOPS_STREAM_PREFIX": f"spamops-bench-{os.getpid()}:",
        "SPAMOPS_MODEL__DATASET_PATH": str(dataset if dataset.exists() else DATASET),
        "SPAMOPS_MODEL__ARTIFACT_ROOT": (root / "artifacts").as_uri(),
        "SPAMOPS_MODEL__PLOTS": "false",
        "PYTHONUNBUFFERED": "1",
        # `mlflow models serve` runs `uvicorn` from PATH: the venv's, like ours.
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }


def _messages(env: dict[str, str], n: int = 200) -> list[str]:
    from ml.data import load_corpus

    texts = load_corpus(Path(env["SPAMOPS_MODEL__DATASET_PATH"])).texts
    return list(texts[:: max(len(texts) // n, 1)])[:n]


def _lua(bodies: list[str], path: Path, token: str | None = None) -> Path:
    items = ",\n".join(json.dumps(b) for b in bodies)
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    path.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        + auth
        + f"local bodies = {{\n{items}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #bodies + 1\n"
        "  return wrk.format(nil, nil, nil, bodies[i])\nend\n"
    )
    return path


@contextlib.contextmanager
def _process(
    cmd: list[str], env: dict[str, str], url: str, log: Path, token: str | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Start a server; yield it and its start-up time to the first 200 on `url`."""
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                if httpx.get(url, timeout=1, headers=headers).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd} did not become ready: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield proc, time.perf_counter() - started
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(url: str, script: Path, connections: int, seconds: float) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:.0f}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {
        q: float(v) * _UNITS[u] for q, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": round(rps, 1),
        "p50_ms": round(lat["50"], 3),
        "p99_ms": round(lat["99"], 3),
        "errors": int(errors.group(1))
        if errors
        else 0 + (sum(int(x) for x in failed.groups()) if failed else 0),
    }


def _rss_mb(pid: int) -> float:
    """RSS of the process and its children (uvicorn may fork a worker)."""
    total = 0.0
    pids = [pid]
    with contextlib.suppress(FileNotFoundError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    for p in pids:
        with contextlib.suppress(FileNotFoundError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return round(total, 1)


def _load(name: str, url: str, script: Path, seconds: float) -> dict[str, dict[str, float]]:
    results = {}
    for c in LEVELS:
        _wrk(url, script, c, 1)  # warm-up
        results[str(c)] = _wrk(url, script, c, seconds)
        print(f"{name:<9} c={c:<3} {results[str(c)]}")
    return results


def run(quick: bool, redis_url: str) -> dict[str, Any]:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian's package)")
    seconds = 3.0 if quick else 15.0
    root = Path(tempfile.mkdtemp(prefix="spamops-bench-serve-"))
    env = _env(root, redis_url)
    py = sys.executable
    subprocess.run([py, "-m", "spamops", "train"], env=env, check=True, stdout=subprocess.DEVNULL)
    bodies = _messages(env)
    from api.security.tokens import issue_token
    from spamops.settings import Settings

    token = issue_token(Settings(_env_file=None).auth, "bench", "admin", ttl_s=86_400)
    predict_lua = _lua([json.dumps({"message": m}) for m in bodies], root / "predict.lua", token)
    mlflow_lua = _lua(
        [json.dumps({"dataframe_split": {"columns": ["text"], "data": [[m]]}}) for m in bodies],
        root / "mlflow.lua",
    )
    batch_lua = _lua(
        [json.dumps({"messages": [{"message": m} for m in bodies[:100]]})], root / "batch.lua"
    )
    result: dict[str, Any] = {}
    uvicorn = [
        "--host",
        "127.0.0.1",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]

    port = free_port()
    with _process(
        [
            py,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            "models:/spam-classifier@champion",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            "1",
        ],
        env,
        f"http://127.0.0.1:{port}/ping",
        root / "mlflow.log",
    ) as (proc, _):
        result["mlflow"] = _load(
            "mlflow", f"http://127.0.0.1:{port}/invocations", mlflow_lua, seconds
        )
        result["mlflow_rss_mb"] = _rss_mb(proc.pid)

    port = free_port()
    base_env = env | {"SPAMOPS_BENCH_MODEL_URI": "models:/spam-classifier@champion"}
    with _process(
        [
            py,
            "-m",
            "uvicorn",
            "bench.servers.baseline_app:create",
            "--factory",
            "--port",
            str(port),
            *uvicorn,
        ],
        base_env,
        f"http://127.0.0.1:{port}/health",
        root / "baseline.log",
    ) as (proc, _):
        result["baseline"] = _load(
            "baseline", f"http://127.0.0.1:{port}/predict", predict_lua, seconds
        )

    port = free_port()
    serve = [py, "-m", "spamops.asgi", "--port", str(port)]
    ready = f"http://127.0.0.1:{port}/ready"
    with _process(serve, env, ready, root / "spamops.log", token) as (proc, _):
        result["spamops"] = _load(
            "spamops", f"http://127.0.0.1:{port}/predict", predict_lua, seconds
        )
        batch = _wrk(f"http://127.0.0.1:{port}/predict/batch", batch_lua, 4, seconds)
        result["batch_msgs_per_s"] = round(batch["rps"] * 100)
        result["rss_mb"] = _rss_mb(proc.pid)
    # Start-up to the first 200 on /predict with the model already in the local cache.
    with _process(serve, env, ready, root / "spamops-restart.log", token) as (_, startup):
        result["startup_s"] = round(startup, 2)
    shutil.rmtree(root, ignore_errors=True)
    s64, m64 = result["spamops"]["64"]["rps"], result["mlflow"]["64"]["rps"]
    result["ratio_vs_mlflow_c64"] = round(s64 / m64, 1) if m64 else None
    result["ratio_vs_baseline_c64"] = round(s64 / result["baseline"]["64"]["rps"], 1)
    result["targets"] = {
        "ratio_vs_mlflow_c64": 10,
        "spamops_p99_ms_c8": 5,
        "rss_mb": 400,
        "startup_s": 3,
    }
    return result


def main() -> None:
    args = parse_args(__doc__ or "")
    with contextlib.ExitStack() as stack:
        url = bench_redis(stack, args.redis_url)
        result = run(args.quick, url)
    result |= {"machine": machine(), "quick": args.quick}
    targets = result["targets"]
    measured = {
        "ratio_vs_mlflow_c64": result["ratio_vs_mlflow_c64"] or 0,
        "spamops_p99_ms_c8": result["spamops"]["8"]["p99_ms"],
        "rss_mb": result["rss_mb"],
        "startup_s": result["startup_s"],
    }
    missed = {
        name: f"{value} (target {'>=' if name.startswith('ratio') else '<='} {targets[name]})"
        for name, value in measured.items()
        if (value < targets[name] if name.startswith("ratio") else value > targets[name])
    }
    result["targets_missed"] = sorted(missed)
    for key in (
        "batch_msgs_per_s",
        "rss_mb",
        "mlflow_rss_mb",
        "startup_s",
        "ratio_vs_mlflow_c64",
        "ratio_vs_baseline_c64",
    ):
        print(f"{key:<22} {result[key]}")
    print("every target met" if not missed else f"targets NOT met: {missed}")
    write_result("serve", result)


if __name__ == "__main__":
    main()
