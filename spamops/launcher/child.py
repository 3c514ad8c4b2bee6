"""One life of a supervised process: started in its own session, its output turned into
prefixed lines, its exit seen the moment it happens.

Why a protocol rather than `asyncio.create_subprocess_exec`: on Python 3.11 `Process.wait()`
returns only once the output pipe is closed too, and a grandchild that inherited the pipe
(a server's worker) keeps it open after its parent died — the supervisor would never see
the crash. `process_exited` fires on the exit itself.
"""

from __future__ import annotations

import asyncio
import contextlib

from spamops.launcher.output import LogSink
from spamops.launcher.proctree import die_with_parent, kill_group
from spamops.launcher.specs import ProcessSpec

__all__ = ["ChildProcess"]

_LINE_LIMIT = 1 << 16


class _Lines(asyncio.SubprocessProtocol):
    """Splits the merged stdout/stderr into lines for the sink."""

    def __init__(self, name: str, sink: LogSink, loop: asyncio.AbstractEventLoop) -> None:
        self.name = name
        self.sink = sink
        self.buffer = bytearray()
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | bytearray) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\n")) >= 0:
            self._emit(bytes(self.buffer[:end]))
            del self.buffer[: end + 1]
        if len(self.buffer) > _LINE_LIMIT:  # a very long line: show it in pieces
            self._emit(bytes(self.buffer))
            self.buffer.clear()

    def _emit(self, line: bytes) -> None:
        self.sink.line(self.name, line.decode("utf-8", errors="replace"))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if self.buffer:
            self._emit(bytes(self.buffer))
            self.buffer.clear()
        if not self.closed.done():
            self.closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class ChildProcess:
    def __init__(self, transport: asyncio.SubprocessTransport, protocol: _Lines) -> None:
        self.transport = transport
        self.protocol = protocol
        self.pid = transport.get_pid()

    @classmethod
    async def spawn(cls, spec: ProcessSpec, sink: LogSink) -> ChildProcess:
        """Start `spec` as the leader of a new session (and process group)."""
        loop = asyncio.get_running_loop()
        protocol = _Lines(spec.name, sink, loop)
        transport, _ = await loop.subprocess_exec(
            lambda: protocol,
            *spec.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(spec.env),
            cwd=spec.cwd,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        return cls(transport, protocol)

    @property
    def returncode(self) -> int | None:
        return self.transport.get_returncode()

    async def wait(self) -> int:
        await asyncio.shield(self.protocol.exited)
        code = self.returncode
        assert code is not None
        return code

    def signal(self, sig: int) -> bool:
        """Signal the process's whole group (it leads it); False if the group is empty."""
        return kill_group(self.pid, sig)

    async def close(self, timeout_s: float = 2.0) -> None:
        """After the exit: read what is left in the pipe (a crash's traceback), then close.
        Waits at most `timeout_s` for whoever else holds the pipe."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.protocol.closed), timeout_s)
        self.transport.close()
