"""Run processes, restart the ones that crash, and stop all of them with nothing left over.

Each child leads its own process group and session: Ctrl-C in the terminal reaches only the
launcher, which then stops the children in order (see `ProcessSpec.tier`) with SIGTERM to
the whole group, waits, and kills what did not stop. Descendants are tracked through
`/proc` too, so a grandchild that left its group is still found. On Linux each child also
gets SIGTERM if the launcher itself is killed (`PR_SET_PDEATHSIG`).

Output of every child (stdout and stderr) goes line by line into one `LogSink`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from spamops.launcher.child import ChildProcess
from spamops.launcher.output import LogSink
from spamops.launcher.proctree import ProcessId, descendants, kill_processes
from spamops.launcher.specs import Backoff, ProcessSpec

__all__ = ["Supervisor"]

_TRACK_INTERVAL_S = 1.0


@dataclass
class _Child:
    spec: ProcessSpec
    process: ChildProcess | None = None
    starts: int = 0
    failures: int = 0
    ready: bool = False
    exit_codes: list[int] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    known: set[ProcessId] = field(default_factory=set)
    """Descendants seen while it ran: killed at the end if they outlive it."""
    swept: bool = True
    """Its last life was cleaned up (its group is not signalled again: the id may be reused)."""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None


class Supervisor:
    """Owns every child process of the launcher (one per name)."""

    def __init__(
        self,
        sink: LogSink,
        backoff: Backoff | None = None,
        stop_timeout_s: float = 40.0,
        on_spawn: Callable[[str, int], None] | None = None,
    ) -> None:
        self.sink = sink
        self.backoff = backoff or Backoff()
        self.stop_timeout_s = stop_timeout_s
        self.on_spawn = on_spawn
        self._children: dict[str, _Child] = {}
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._tracker: asyncio.Task[None] | None = None

    # -- looking ---------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stopping

    def pids(self) -> dict[str, int]:
        """The running children by name (each pid is also its process group id)."""
        return {
            name: child.process.pid
            for name, child in self._children.items()
            if child.running and child.process is not None
        }

    def starts(self, name: str) -> int:
        return self._children[name].starts

    def exit_codes(self, name: str) -> list[int]:
        return list(self._children[name].exit_codes)

    def is_ready(self, name: str) -> bool:
        return self._children[name].ready

    async def wait_ready(
        self, names: Iterable[str] | None = None, timeout_s: float = 60.0
    ) -> list[str]:
        """Wait until the named children (default: all with a check) are ready; the names
        that are not, when the time is up or the supervisor stops."""
        wanted = (
            list(names)
            if names is not None
            else [name for name, child in self._children.items() if child.spec.ready is not None]
        )
        deadline = time.monotonic() + timeout_s
        while True:
            missing = [name for name in wanted if not self._children[name].ready]
            if not missing or self._stopping or time.monotonic() >= deadline:
                return missing
            await asyncio.sleep(0.1)

    # -- starting --------------------------------------------------------------------------

    def _event(self) -> asyncio.Event:
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    async def _spawn(self, child: _Child) -> ChildProcess:
        spec = child.spec
        process = await ChildProcess.spawn(spec, self.sink)
        child.process = process
        child.swept = False
        child.starts += 1
        if spec.on_start is not None:
            spec.on_start(process.pid)
        if self.on_spawn is not None:
            self.on_spawn(spec.name, process.pid)
        if self._tracker is None:
            self._tracker = asyncio.create_task(self._track())
        return process

    async def _watch_ready(self, child: _Child) -> None:
        check = child.spec.ready
        if check is None:
            return
        while True:
            try:
                ok = await check()
            except Exception:
                ok = False
            if ok:
                child.ready = True
                return
            await asyncio.sleep(0.25)

    def start(self, spec: ProcessSpec) -> None:
        """Start `spec` and keep it running (by its restart policy) until `stop`."""
        if spec.name in self._children and self._children[spec.name].task is not None:
            raise ValueError(f"a process named {spec.name!r} is already supervised")
        child = _Child(spec)
        self._children[spec.name] = child
        child.task = asyncio.create_task(self._supervise(child), name=f"supervise-{spec.name}")

    async def _run(self, child: _Child) -> int:
        """One life of the child: spawn, watch readiness, reap it, clean up after it."""
        try:
            process = await self._spawn(child)
        except OSError as exc:
            self.sink.say(f"{child.spec.name} could not start: {exc}")
            return 127
        ready = asyncio.create_task(self._watch_ready(child))
        try:
            code = await process.wait()
        finally:
            ready.cancel()
            child.ready = False
        self._sweep(child)
        await process.close()
        child.exit_codes.append(code)
        return code

    async def _supervise(self, child: _Child) -> None:
        spec = child.spec
        wake = self._event()
        while not wake.is_set():
            started = time.monotonic()
            code = await self._run(child)
            if wake.is_set():  # stopping: not a crash
                return
            if spec.restart == "never" or (spec.restart == "on-failure" and code == 0):
                self.sink.say(f"{spec.name} exited with code {code}")
                return
            if time.monotonic() - started >= self.backoff.stable_after_s:
                child.failures = 0
            child.failures += 1
            delay = self.backoff.delay(child.failures)
            self.sink.say(
                f"{spec.name} exited with code {code}; restarting in {delay:.1f} s "
                f"(crash {child.failures} in a row)"
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)

    async def run_once(self, spec: ProcessSpec) -> int:
        """Run a one-shot step to completion (output in the combined log); its exit code.
        Cancelling it, or stopping the supervisor, stops the step's whole process group."""
        child = _Child(spec)
        self._children[spec.name] = child
        try:
            return await self._run(child)
        finally:
            await self._stop_child(child)

    # -- stopping --------------------------------------------------------------------------

    async def _track(self) -> None:
        """Remember every child's descendants while they run."""
        while True:
            for child in list(self._children.values()):
                if child.running and child.process is not None:
                    child.known.update(descendants(child.process.pid))
            await asyncio.sleep(_TRACK_INTERVAL_S)

    def _sweep(self, child: _Child) -> None:
        """After the child is gone: kill what is left of its group and its descendants."""
        if child.process is not None and not child.swept:
            child.process.signal(signal.SIGKILL)
            child.swept = True
        kill_processes(child.known, signal.SIGKILL)
        child.known.clear()

    async def _stop_child(self, child: _Child) -> None:
        process = child.process
        if process is not None and process.returncode is None:
            child.known.update(descendants(process.pid))
            process.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self.stop_timeout_s)
            except TimeoutError:
                self.sink.say(
                    f"{child.spec.name} did not stop within {self.stop_timeout_s:.0f} s: killed"
                )
                process.signal(signal.SIGKILL)
                await process.wait()
        self._sweep(child)
        if process is not None:
            await process.close(0.5)

    async def stop(self) -> None:
        """Stop every child, highest tier first; each tier as a whole, then the next."""
        self._stopping = True
        self._event().set()
        children = list(self._children.values())
        for tier in sorted({c.spec.tier for c in children}, reverse=True):
            await asyncio.gather(*(self._stop_child(c) for c in children if c.spec.tier == tier))
        tasks = [c.task for c in children if c.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._tracker is not None:
            self._tracker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tracker
            self._tracker = None
        for child in children:
            self._sweep(child)

    def kill_all(self) -> None:
        """SIGKILL every child's group now (a second Ctrl-C); `stop` then finishes at once."""
        self._stopping = True
        self._event().set()
        for child in self._children.values():
            if child.running and child.process is not None:
                child.process.signal(signal.SIGKILL)
