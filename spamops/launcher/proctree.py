"""Processes as the kernel sees them: who descends from whom, and killing whole trees.

Every child of the launcher leads its own process group, so one `killpg` reaches what it
started too (MLflow's server workers, the API's registry sync child). A grandchild that
calls `setsid` leaves that group; it is still a descendant, which `/proc` tells us, so the
launcher snapshots descendants before stopping and kills any that outlive their parent.
Linux only where `/proc` is needed; elsewhere the process groups alone are used.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import signal
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "ProcessId",
    "alive",
    "descendants",
    "die_with_parent",
    "environment_has",
    "group_members",
    "identity",
    "kill_group",
    "kill_processes",
]

PROC = Path("/proc")
ProcessId = tuple[int, int]
"""(pid, start time in clock ticks): a pid alone may be reused by a later process."""


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def identity(pid: int) -> ProcessId | None:
    """The pid with its start time, or None if it is gone (or a zombie)."""
    fields = _stat(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return pid, int(fields[19])


def alive(process: int | ProcessId) -> bool:
    """True while the process runs (a zombie waiting to be reaped does not count)."""
    pid, started = (process, None) if isinstance(process, int) else process
    if PROC.is_dir():
        now = identity(pid)
        return now is not None and (started is None or now[1] == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> list[ProcessId]:
    """Every live process below `pid` (children, theirs, ...), as (pid, start time)."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found: list[ProcessId] = []
    todo = list(children.get(pid, []))
    while todo:
        current = todo.pop()
        ident = identity(current)
        if ident is not None:
            found.append(ident)
        todo.extend(children.get(current, []))
    return found


def group_members(pgid: int) -> list[ProcessId]:
    """Every live process of process group `pgid`."""
    members = []
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[2]) == pgid:
                ident = identity(int(entry.name))
                if ident is not None:
                    members.append(ident)
    return members


def environment_has(pid: int, entry: str) -> bool:
    """True if the process was started with `entry` (`NAME=value`) in its environment."""
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return entry.encode() in raw.split(b"\0")


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> bool:
    """Signal every process of group `pgid`; False if the group is empty."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def kill_processes(processes: Iterable[ProcessId], sig: int = signal.SIGKILL) -> int:
    """Signal each process that still is the one recorded; how many were signalled."""
    count = 0
    for process in processes:
        if alive(process):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(process[0], sig)
                count += 1
    return count


@functools.cache
def _prctl() -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    if not name or not hasattr(os, "setsid"):
        return None
    try:
        function: Callable[..., int] = ctypes.CDLL(name, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return function


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child get SIGTERM when the launcher dies, even by
    SIGKILL (Linux `PR_SET_PDEATHSIG`); None where that does not exist.

    The C function is looked up here, in the parent, so the forked child only calls it.
    """
    prctl = _prctl()
    if prctl is None:
        return None

    def preexec() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec
