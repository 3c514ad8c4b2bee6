"""A system under test made of real processes: start them, freeze them, kill them, look inside.

Fault tests drive `spamops consume ...` and `python -m spamops.asgi` as child processes on a
Redis the test started, so that a SIGKILL is a real crash and a restart is a real restart.
Everything a test asserts on is read from the outside: stream entries, consumer-group
pending lists, the SQL store, a webhook receiver, HTTP answers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from bus.codec import decode_fields, encode_event
from bus.embedded import free_port
from bus.replies import entries, text
from schemas.catalogue import StreamName, stream_for
from schemas.envelope import Envelope
from schemas.errors import EventDecodeError
from schemas.events import Event, EventDeadLettered
from schemas.operations import DeadLetter

__all__ = ["FAST_BUS_ENV", "Api", "Proc", "Stack", "admin_headers", "wait_until"]

FAST_BUS_ENV = {
    # Redeliver a dead member's entries after one second instead of a minute.
    "SPAMOPS_BUS__BLOCK_MS": "100",
    "SPAMOPS_BUS__RECLAIM_IDLE_MS": "1000",
    "SPAMOPS_BUS__RECLAIM_INTERVAL_MS": "200",
    "SPAMOPS_BUS__READ_COUNT": "20",
    "SPAMOPS_BUS__HEARTBEAT_INTERVAL_S": "0.5",
    "SPAMOPS_BUS__SHUTDOWN_GRACE_S": "10",
    "SPAMOPS_BUS__RECONNECT_BACKOFF_MS": "50",
    "SPAMOPS_BUS__RECONNECT_BACKOFF_MAX_MS": "500",
    "SPAMOPS_API__MODEL_RELOAD_BACKOFF_S": "0.2",
    "SPAMOPS_LOG_FORMAT": "text",
    "PYTHONUNBUFFERED": "1",
}


def wait_until(
    condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.05
) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:.0f} s: {what}")
        time.sleep(poll_s)


def admin_headers() -> dict[str, str]:
    """A bearer token every process of the session accepts (they share its JWT secret)."""
    from api.security.tokens import issue_token
    from spamops.settings import Settings

    token = issue_token(Settings(_env_file=None).auth, "fault-tests", "admin")
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stopped(self) -> bool:
        """True once the kernel has stopped it (SIGSTOP delivered): state T in /proc."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] in ("T", "t")


@dataclass
class Api:
    """`python -m spamops.asgi` on a port of its own, and an admin's HTTP client for it."""

    proc: Proc
    url: str

    def client(self, timeout_s: float = 10) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout_s, headers=admin_headers())

    def get(self, path: str) -> httpx.Response:
        with self.client() as client:
            return client.get(path)


@dataclass
class Stack:
    """Processes sharing one Redis, one key prefix, one data directory and one store."""

    root: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.redis = Redis.from_url(self.env["SPAMOPS_REDIS_URL"])

    @property
    def prefix(self) -> str:
        return self.env["SPAMOPS_STREAM_PREFIX"]

    def key(self, stream: StreamName | str) -> str:
        return f"{self.prefix}{stream}"

    # -- processes ---------------------------------------------------------------------

    def start(self, name: str, args: list[str], **env: str) -> Proc:
        log = self.root / f"{name}.log"
        with log.open("ab") as out:  # the child keeps its own descriptor
            process = subprocess.Popen(
                [sys.executable, *args],
                env=self.env | env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, process, log)
        self.procs.append(proc)
        return proc

    def consume(self, *names: str, member: str, wait: bool = True, **env: str) -> Proc:
        """`spamops consume NAMES --member MEMBER`; waits until it reads (`consuming as`)."""
        proc = self.start(member, ["-m", "spamops", "consume", *names, "--member", member], **env)
        if wait:
            self.wait_consuming(proc)
        return proc

    def wait_consuming(self, proc: Proc, timeout_s: float = 60) -> None:
        wait_until(
            lambda: "consuming as" in proc.tail(10**6) or not proc.alive(),
            timeout_s,
            f"{proc.name} to start",
        )
        assert proc.alive(), proc.tail()

    def api(self, name: str = "api", *, ready: bool = True, **env: str) -> Api:
        """Start the API; wait until `/ready` answers (200, or any answer if not `ready`)."""
        port = free_port()
        proc = self.start(name, ["-m", "spamops.asgi", "--port", str(port)], **env)
        api = Api(proc, f"http://127.0.0.1:{port}")
        headers = admin_headers()

        def answers() -> bool:
            assert proc.alive(), proc.tail()
            try:
                status = httpx.get(f"{api.url}/ready", timeout=2, headers=headers).status_code
            except httpx.HTTPError:
                return False
            return status == 200 or not ready

        wait_until(answers, 90, f"{name} to answer /ready", poll_s=0.1)
        return api

    def kill(self, proc: Proc) -> None:
        """SIGKILL: a crash, nothing drained."""
        if proc.alive():
            os.kill(proc.pid, signal.SIGKILL)
        proc.process.wait(10)

    def terminate(self, proc: Proc, timeout_s: float = 30) -> int:
        """SIGTERM and wait: consumers drain and exit 0."""
        if proc.alive():
            os.kill(proc.pid, signal.SIGCONT)
            proc.process.terminate()
        return proc.process.wait(timeout_s)

    def freeze(self, proc: Proc) -> None:
        os.kill(proc.pid, signal.SIGSTOP)
        wait_until(proc.stopped, 5, f"{proc.name} to stop", poll_s=0.001)

    def thaw(self, proc: Proc) -> None:
        os.kill(proc.pid, signal.SIGCONT)

    def close(self) -> None:
        """Stop whatever is still running (thawed first), then close the Redis client."""
        for proc in self.procs:
            if proc.alive():
                os.kill(proc.pid, signal.SIGCONT)
                proc.process.terminate()
        for proc in self.procs:
            try:
                proc.process.wait(20)
            except subprocess.TimeoutExpired:
                proc.process.kill()
                proc.process.wait()
        self.redis.close()

    def logs(self) -> str:
        """Every process's log tail, for an assertion message."""
        return "\n".join(
            f"--- {p.name} (exit {p.process.poll()})\n{p.tail(1500)}" for p in self.procs
        )

    # -- streams and groups ------------------------------------------------------------

    def publish(self, events: Iterable[Envelope]) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.xadd(self.key(stream_for(event.type)), encode_event(event))  # type: ignore[arg-type]
            pipe.execute()

    def add_raw(self, stream: StreamName, fields: dict[str | bytes, str | bytes]) -> str:
        """XADD arbitrary fields (a poison entry); its entry id."""
        return text(self.redis.xadd(self.key(stream), fields))  # type: ignore[arg-type]

    def entries(self, stream: StreamName) -> list[tuple[str, dict[bytes, bytes]]]:
        return entries(self.redis.xrange(self.key(stream)))

    def events(self, stream: StreamName) -> list[Event]:
        """Every valid event on `stream`, oldest first."""
        out: list[Event] = []
        for _, fields in self.entries(stream):
            try:
                out.append(decode_fields(fields))
            except EventDecodeError:
                continue
        return out

    def of_type(self, event_type: str) -> list[Any]:
        return [e for e in self.events(stream_for(event_type)) if e.type == event_type]

    def dead_letters(self) -> list[DeadLetter]:
        return [
            e.payload
            for e in self.events(StreamName.DEADLETTER)
            if isinstance(e, EventDeadLettered)
        ]

    def group(self, stream: StreamName, group: str) -> dict[str, Any] | None:
        """XINFO GROUPS of `group` on `stream` (names decoded), None if it has none."""
        if not self.redis.exists(self.key(stream)):
            return None
        for info in self.redis.xinfo_groups(self.key(stream)):
            if text(info["name"]) == group:
                return {k: text(v) if isinstance(v, bytes) else v for k, v in info.items()}
        return None

    def has_group(self, stream: StreamName, group: str) -> bool:
        return self.group(stream, group) is not None

    def pending(self, stream: StreamName, group: str, member: str | None = None) -> int:
        """Entries delivered to `group` (or to one member of it) and not acknowledged."""
        info = self.group(stream, group)
        if info is None:
            return 0
        if member is None:
            return int(info["pending"])
        for consumer in self.redis.xinfo_consumers(self.key(stream), group):
            if text(consumer["name"]) == member:
                return int(consumer["pending"])
        return 0

    def undelivered(self, stream: StreamName, group: str) -> int:
        """Entries the group has not read yet (entries after its last-delivered id)."""
        info = self.group(stream, group)
        assert info is not None, f"no group {group} on {stream}"
        after = f"({info['last-delivered-id']}"
        return len(entries(self.redis.xrange(self.key(stream), min=after, count=1)))

    def acknowledged(self, group: str, streams: Iterable[StreamName]) -> int:
        """Entries `group` has read and acknowledged, over `streams`."""
        total = 0
        for s in streams:
            info = self.group(s, group)
            if info is None:
                continue
            last = info["last-delivered-id"]
            read = len(entries(self.redis.xrange(self.key(s), max=last))) if last != "0-0" else 0
            total += read - int(info["pending"])
        return total

    def caught_up(self, group: str, streams: Iterable[StreamName]) -> bool:
        """Everything on `streams` read and acknowledged by `group`."""
        return all(
            self.has_group(s, group)
            and self.pending(s, group) == 0
            and not self.undelivered(s, group)
            for s in streams
        )

    def kill_with_work_in_hand(
        self, proc: Proc, group: str, streams: Iterable[StreamName], timeout_s: float = 30
    ) -> int:
        """SIGKILL `proc` at a moment its member holds read but unacknowledged entries.

        The process is frozen (SIGSTOP) and its pending entries counted; if it holds none,
        it is thawed and tried again a moment later. Frozen, it cannot acknowledge between
        the count and the kill. Returns how many entries it held when it died.
        """
        member, streams = proc.name, list(streams)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert proc.alive(), proc.tail()
            self.freeze(proc)
            if sum(self.pending(s, group, member) for s in streams):
                self.kill(proc)
                return sum(self.pending(s, group, member) for s in streams)
            self.thaw(proc)
            time.sleep(0.003)
        raise AssertionError(f"{member} never held unacknowledged entries of {group}")
