"""Soak: the whole system under steady traffic through the API, then the highest rate it holds.

Starts what `spamops up` starts — the API (`python -m spamops.asgi`, one worker) and every
consumer, grouped in processes as the launcher groups them — on Redis and a SQLite store,
with a champion trained here. Then:

1. warm-up at `--rate` requests/s (drift calibration, caches, first windows);
2. soak at `--rate` for `--duration` seconds (default 600; `--quick`: 15): every answer
   checked, the RSS of every process and the lag + pending of every consumer group sampled
   each second;
3. drain: how long until every group has read and acknowledged everything;
4. step search (skip with `--no-search`): rates doubling from `--rate`, each for `--step`
   seconds, until a step breaks, then bisecting between the last step held and the first
   broken; a step holds when no request fails, the generator reached
   97% of the rate, p99 stays under `--p99-ms`, and no group ends it more than two seconds
   of traffic behind. `sustained_rps` is the highest step that held.

Traffic: corpus messages to `POST /predict`; every fifth request is a `POST /feedback`
labelling an earlier prediction with its corpus label. The client is a small open-loop
HTTP/1.1 client over asyncio (requests are scheduled at fixed times; latency counts from
the scheduled time, so a stalled server cannot hide its queue). It runs on the same two
cores as the system, as it would in CI.

Figures: `errors`, `memory_growth_pct` (largest growth of one process's RSS from the end of
warm-up to the end of the soak, medians of 5 samples), `max_lag` (largest lag + pending of
one group during the soak), `drain_s`, `sustained_rps`; targets: no error, growth ≤ 5%,
lag back to 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from redis import Redis

from bench.harness import bench_redis, machine, percentile, write_result
from bus.embedded import free_port

REPO = Path(__file__).resolve().parent.parent
DATASET = REPO.parent / "shared" / "data" / "sms_spam_collection" / "SMSSpamCollection"
FEEDBACK_EVERY = 5
TARGET_GROWTH_PCT = 5.0


# -- arguments ---------------------------------------------------------------------------


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    # Benchmarks run with SPAMOPS_ENV=test, where the default JWT secret is refused.
    os.environ.setdefault("SPAMOPS_AUTH__JWT_SECRET", secrets.token_urlsafe(48))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="finish within 60 s, same keys")
    parser.add_argument("--redis-url", default=None, help="default: 127.0.0.1:6379 or embedded")
    parser.add_argument("--duration", type=float, default=None, help="soak seconds (600)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds (60)")
    parser.add_argument("--rate", type=float, default=None, help="requests/s (200; quick 100)")
    parser.add_argument("--p99-ms", type=float, default=50.0, help="p99 bound of a held step")
    parser.add_argument("--step", type=float, default=None, help="seconds per step (30)")
    parser.add_argument("--no-search", action="store_true", help="skip the step search")
    args = parser.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (15.0 if quick else 600.0)
    args.warmup = args.warmup if args.warmup is not None else (5.0 if quick else 60.0)
    args.rate = args.rate or (100.0 if quick else 200.0)
    args.step = args.step or (3.0 if quick else 30.0)
    return args


# -- the system under test ---------------------------------------------------------------


def _dataset() -> Path:
    local = REPO / "data" / "sms_spam_collection" / "SMSSpamCollection"
    return local if local.exists() else DATASET


def _env(root: Path, redis_url: str, corpus: Path, quick: bool) -> dict[str, str]:
    env = os.environ | {
        "SPAMOPS_ENV": "test",
        "SPAMOPS_DATA_DIR": str(root / "data"),
        "SPAMOPS_MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "SPAMOPS_REDIS_URL": redis_url,
        "SPAMOPS_STREAM_PREFIX": f"spamops-soak-{os.getpid()}:",
        "SPAMOPS_MODEL__DATASET_PATH": str(corpus),
        "SPAMOPS_MODEL__ARTIFACT_ROOT": (root / "artifacts").as_uri(),
        "SPAMOPS_MODEL__PLOTS": "false",
        # The limiter stays on (it is part of the request path) but never refuses here.
        "SPAMOPS_AUTH__RATE_LIMIT_PER_S": "1000000",
        "SPAMOPS_AUTH__RATE_LIMIT_BURST": "1000000",
        "PYTHONUNBUFFERED": "1",
    }
    if quick:  # a model in seconds, and a drift calibration in a second instead of ~6
        env |= {
            "SPAMOPS_MODEL__CV_FOLDS": "2",
            "SPAMOPS_MONITORING__DRIFT_CALIBRATION_WINDOWS": "60",
        }
    return env


def _rss_mb(pid: int) -> float:
    """Resident memory of a process: psutil if installed, else /proc (Linux)."""
    try:
        psutil: Any = importlib.import_module("psutil")
    except ImportError:
        psutil = None
    if psutil is not None:
        with contextlib.suppress(psutil.Error):
            return float(psutil.Process(pid).memory_info().rss) / 2**20
        return float("nan")
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def rss_mb(self) -> float:
        return _rss_mb(self.popen.pid)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@dataclass
class System:
    root: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)
    api_port: int = 0

    def start(self, name: str, args: list[str]) -> Proc:
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def alive(self) -> list[str]:
        return [p.name for p in self.procs if p.popen.poll() is None]

    def stop(self) -> None:
        for p in self.procs:
            if p.popen.poll() is None:
                p.popen.terminate()
        for p in self.procs:
            try:
                p.popen.wait(30)
            except subprocess.TimeoutExpired:
                p.popen.kill()
                p.popen.wait()


def _token() -> str:
    from api.security.tokens import issue_token
    from spamops.settings import Settings

    return issue_token(Settings(_env_file=None).auth, "soak", "admin", ttl_s=86_400)


@contextlib.contextmanager
def system(root: Path, env: dict[str, str], token: str) -> Iterator[System]:
    from spamops.launcher.plan import CONSUMER_PROCESSES

    sut = System(root, env)
    try:
        for name, consumers in CONSUMER_PROCESSES.items():
            sut.start(name, ["-m", "spamops", "consume", *consumers, "--member", f"{name}-1"])
        sut.api_port = free_port()
        api = sut.start("api", ["-m", "spamops.asgi", "--port", str(sut.api_port)])
        deadline = time.monotonic() + 180
        while True:
            dead = [p for p in sut.procs if p.popen.poll() is not None]
            if dead:
                raise RuntimeError(f"{dead[0].name} exited: {dead[0].tail()}")
            ready = False
            with contextlib.suppress(httpx.HTTPError):
                url = f"http://127.0.0.1:{sut.api_port}/ready"
                headers = {"Authorization": f"Bearer {token}"}
                ready = httpx.get(url, headers=headers, timeout=2).status_code == 200
            consuming = all("consuming as" in p.log.read_text() for p in sut.procs if p is not api)
            if ready and consuming:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the system did not start within 180 s")
            time.sleep(0.2)
        yield sut
    finally:
        sut.stop()


# -- the load ----------------------------------------------------------------------------


def _request(path: str, body: bytes, token: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Step:
    rate: float
    seconds: float
    sent: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def achieved_rps(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "seconds": round(self.seconds, 1),
            "requests": self.sent,
            "achieved_rps": round(self.achieved_rps, 1),
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p99_ms": round(percentile(self.latencies_ms, 99), 2),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 2),
        }


class Load:
    """Open-loop traffic: request i is due at start + i / rate; `connections` keep-alive
    connections take due requests in order. Latency runs from the due time."""

    def __init__(
        self,
        port: int,
        token: str,
        messages: Sequence[tuple[str, str]],
        connections: int = 64,
    ) -> None:
        self.port = port
        self.token = token
        self.predict = [
            (_request("/predict", orjson.dumps({"message": text}), token), label)
            for text, label in messages
        ]
        self.connections = connections
        self.labelled: deque[tuple[str, str]] = deque(maxlen=10_000)
        self.count = 0

    async def _exchange(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], raw: bytes
    ) -> tuple[int, bytes]:
        reader, writer = conn
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await reader.readexactly(length) if length else b""
        return status, body

    async def run(self, rate: float, seconds: float) -> Step:
        step = Step(rate, seconds)
        queue: asyncio.Queue[float | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def worker() -> None:
            conn = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                while (due := await queue.get()) is not None:
                    i = self.count
                    self.count += 1
                    label = ""
                    if i % FEEDBACK_EVERY == FEEDBACK_EVERY - 1 and self.labelled:
                        pid, truth = self.labelled.popleft()
                        body = orjson.dumps({"prediction_id": pid, "label": truth})
                        raw = _request("/feedback", body, self.token)
                    else:
                        raw, label = self.predict[i % len(self.predict)]
                    try:
                        async with asyncio.timeout(10):
                            status, answer = await self._exchange(conn, raw)
                    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                        status, answer = 0, b""
                        conn[1].close()
                        conn = await asyncio.open_connection("127.0.0.1", self.port)
                    step.latencies_ms.append((loop.time() - due) * 1000)
                    step.statuses[status] = step.statuses.get(status, 0) + 1
                    step.sent += 1
                    if status not in (200, 202):
                        step.errors += 1
                    elif label:
                        self.labelled.append((orjson.loads(answer)["prediction_id"], label))
            finally:
                conn[1].close()

        workers = [asyncio.create_task(worker()) for _ in range(self.connections)]
        start = loop.time()
        n = 0
        while (due := start + n / rate) < start + seconds:
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(due)
            n += 1
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers)
        step.seconds = loop.time() - start
        return step


# -- what is sampled ---------------------------------------------------------------------


class Groups:
    """Lag + pending of every consumer group on every stream of the prefix."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.redis = Redis.from_url(redis_url)
        self.prefix = prefix

    def backlog(self) -> dict[str, int]:
        """(stream/group) → entries not yet read + read and not acknowledged."""
        from schemas.catalogue import StreamName

        out: dict[str, int] = {}
        for name in StreamName:
            key = f"{self.prefix}{name}"
            if not self.redis.exists(key):
                continue
            for info in self.redis.xinfo_groups(key):
                group = info["name"].decode()
                lag = info.get("lag")
                if lag is None:  # Redis < 7: count what follows the last delivered id
                    last = info["last-delivered-id"].decode()
                    lag = len(self.redis.xrange(key, min=f"({last}", count=100_000))  # type: ignore[arg-type]
                out[f"{name}/{group}"] = int(lag) + int(info["pending"])
        return out

    def dead_letters(self) -> int:
        return int(self.redis.xlen(f"{self.prefix}deadletter"))

    def used_memory_mb(self) -> float:
        return round(int(self.redis.info("memory")["used_memory"]) / 2**20, 1)


@dataclass
class Sampler:
    sut: System
    groups: Groups
    rss: dict[str, list[float]] = field(default_factory=dict)
    max_lag: dict[str, int] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event, interval_s: float = 1.0) -> None:
        while not stop.is_set():
            for p in self.sut.procs:
                self.rss.setdefault(p.name, []).append(p.rss_mb)
            backlog = await asyncio.to_thread(self.groups.backlog)
            for k, v in backlog.items():
                self.max_lag[k] = max(self.max_lag.get(k, 0), v)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)


def _growth(samples: list[float]) -> dict[str, float]:
    k = min(5, max(1, len(samples) // 4))
    start, end = statistics.median(samples[:k]), statistics.median(samples[-k:])
    return {
        "start_mb": round(start, 1),
        "end_mb": round(end, 1),
        "growth_pct": round((end - start) / start * 100, 2),
    }


async def _drain(groups: Groups, timeout_s: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        backlog = await asyncio.to_thread(groups.backlog)
        if not any(backlog.values()):
            return round(time.monotonic() - started, 2)
        await asyncio.sleep(0.1)
    return None


# -- the run -----------------------------------------------------------------------------


async def soak(args: argparse.Namespace, sut: System, groups: Groups, load: Load) -> dict[str, Any]:
    result: dict[str, Any] = {}
    print(f"warm-up: {args.warmup:.0f} s at {args.rate:g}/s")
    warm = await load.run(args.rate, args.warmup)
    await _drain(groups, 120)
    print(f"soak: {args.duration:.0f} s at {args.rate:g}/s")
    stop = asyncio.Event()
    sampler = Sampler(sut, groups)
    sampling = asyncio.create_task(sampler.run(stop))
    main = await load.run(args.rate, args.duration)
    stop.set()
    await sampling
    drain_s = await _drain(groups, 300)
    memory = {name: _growth(samples) for name, samples in sampler.rss.items()}
    result |= {
        "rate": args.rate,
        "duration_s": round(main.seconds, 1),
        "warmup_s": round(warm.seconds, 1),
        "requests": main.sent,
        "errors": main.errors + warm.errors,
        "soak": main.summary(),
        "memory": memory,
        "memory_growth_pct": max(m["growth_pct"] for m in memory.values()),
        "max_lag": max(sampler.max_lag.values(), default=0),
        "max_lag_by_group": dict(sorted(sampler.max_lag.items())),
        "drain_s": drain_s,
        "dead_letters": groups.dead_letters(),
        "processes_alive": len(sut.alive()) == len(sut.procs),
    }
    print(
        f"soak: {main.sent} requests, {result['errors']} errors, p99 {main.summary()['p99_ms']} ms,"
        f" max lag {result['max_lag']}, drained in {drain_s} s,"
        f" memory growth {result['memory_growth_pct']}%"
    )
    if not args.no_search:
        result |= await search(args, groups, load)
    return result


def _held(step: Step, lag_end: int, p99_bound: float) -> bool:
    return (
        step.errors == 0
        and step.achieved_rps >= 0.97 * step.rate
        and percentile(step.latencies_ms, 99) <= p99_bound
        and lag_end <= 2 * step.rate
    )


async def search(args: argparse.Namespace, groups: Groups, load: Load) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    rate, best = args.rate, 0.0
    budget = 4 if args.quick else 12
    failed_at: float | None = None
    while budget:
        budget -= 1
        step = await load.run(rate, args.step)
        lag_end = max((await asyncio.to_thread(groups.backlog)).values(), default=0)
        drain_s = await _drain(groups, 120)
        held = _held(step, lag_end, args.p99_ms) and drain_s is not None
        steps.append(step.summary() | {"lag_end": lag_end, "drain_s": drain_s, "held": held})
        print(f"step {rate:7.0f}/s: {steps[-1]}")
        if held:
            best = max(best, rate)
        else:
            failed_at = rate if failed_at is None else min(failed_at, rate)
        if failed_at is None:
            rate = round(rate * 2)
        elif failed_at - best > 0.1 * failed_at and best:
            rate = round((best + failed_at) / 2)  # bisect once or twice between the two
        else:
            break
    return {
        "sustained_rps": best,
        "sustained_rps_is_lower_bound": failed_at is None,  # no step broke within the budget
        "p99_bound_ms": args.p99_ms,
        "steps": steps,
    }


def run(args: argparse.Namespace, redis_url: str) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="spamops-soak-"))
    try:
        corpus = _dataset()
        if args.quick:  # the first 2,000 messages: a model in a few seconds
            small = root / "SMSSpamCollection"
            lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
            small.write_text("".join(lines[:2000]), encoding="utf-8")
            corpus = small
        env = _env(root, redis_url, corpus, args.quick)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "spamops", "train"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"trained a champion in {time.perf_counter() - started:.1f} s")
        from ml.data import load_corpus

        data = load_corpus(corpus)
        messages = list(zip(data.texts, data.labels, strict=True))[:1000]
        token = _token()
        groups = Groups(redis_url, env["SPAMOPS_STREAM_PREFIX"])
        with system(root, env, token) as sut:
            print(f"started {len(sut.procs)} processes in {time.perf_counter() - started:.1f} s")
            load = Load(sut.api_port, token, messages)
            result = asyncio.run(soak(args, sut, groups, load))
            result["redis_used_memory_mb"] = groups.used_memory_mb()
            result["redis_version"] = groups.redis.info("server")["redis_version"]
        prefix = env["SPAMOPS_STREAM_PREFIX"]
        for key in groups.redis.scan_iter(match=f"{prefix}*", count=1000):
            groups.redis.delete(key)
        groups.redis.close()
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    with contextlib.ExitStack() as stack:
        url = bench_redis(stack, args.redis_url)
        started = time.perf_counter()
        result = run(args, url)
    result |= {
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "quick": args.quick,
        "targets": {"errors": 0, "memory_growth_pct": TARGET_GROWTH_PCT, "drained": True},
    }
    ok = (
        result["errors"] == 0
        and result["memory_growth_pct"] <= TARGET_GROWTH_PCT
        and result["drain_s"] is not None
    )
    for key in (
        "rate",
        "duration_s",
        "requests",
        "errors",
        "memory_growth_pct",
        "max_lag",
        "drain_s",
        "dead_letters",
        "sustained_rps",
        "seconds",
    ):
        print(f"{key:<18} {result.get(key)}")
    print(f"targets {'met' if ok else 'NOT met'}: {result['targets']}")
    write_result("soak", result)


if __name__ == "__main__":
    main()
