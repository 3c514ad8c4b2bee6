"""What a running launcher leaves in the data directory, and cleaning up after a dead one.

- `<data_dir>/redis/server.json` (`{"pid", "url"}`): the embedded Redis, so one-shot
  commands in another terminal (`spamops events tail`) find it (`spamops.runtime`).
- `<data_dir>/launcher/launcher.json`: the launcher's pid and its children's process
  groups. A second `spamops up` on the same data directory is refused while the first
  runs; if the first was killed (SIGKILL, OOM) its leftovers are stopped before starting.
- `<data_dir>/launcher/token`: the demo admin token, readable by the owner only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

from spamops.launcher.proctree import (
    alive,
    environment_has,
    group_members,
    kill_processes,
)
from spamops.runtime import embedded_state_file
from spamops.settings import Settings

__all__ = ["LauncherBusyError", "LauncherState"]


class LauncherBusyError(RuntimeError):
    """Another `spamops up` runs on this data directory. Fix: stop it (Ctrl-C in its
    terminal), or start this one with another SPAMOPS_DATA_DIR."""


class LauncherState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.directory = settings.data_dir / "launcher"
        self.file = self.directory / "launcher.json"
        self.token_file = self.directory / "token"
        self.redis_file = embedded_state_file(settings)
        self.marker = f"SPAMOPS_DATA_DIR={settings.data_dir}"
        """Every child carries this in its environment: how leftovers are recognised."""
        self._groups: dict[str, int] = {}
        self.claimed = False

    def _read(self) -> dict[str, object]:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.file.read_text())
            if isinstance(data, dict):
                return data
        return {}

    def _write(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = {"pid": os.getpid(), "started": time.time(), "groups": self._groups}
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload))
        tmp.replace(self.file)

    def claim(self) -> int:
        """Become this data directory's launcher; the number of leftovers stopped."""
        previous = self._read()
        pid = previous.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and alive(pid):
            raise LauncherBusyError(
                f"`spamops up` already runs on {self.settings.data_dir} (pid {pid}); stop it "
                "first, or set SPAMOPS_DATA_DIR to another directory"
            )
        groups = previous.get("groups")
        stopped = self._stop_leftovers(groups if isinstance(groups, dict) else {})
        self._groups = {}
        self._write()
        self.claimed = True
        return stopped

    def _stop_leftovers(self, groups: dict[str, object]) -> int:
        """Processes of a killed launcher: in a recorded group *and* started by it."""
        leftovers = [
            member
            for pgid in groups.values()
            if isinstance(pgid, int)
            for member in group_members(pgid)
            if environment_has(member[0], self.marker)
        ]
        kill_processes(leftovers, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while any(alive(p) for p in leftovers) and time.monotonic() < deadline:
            time.sleep(0.05)
        kill_processes(leftovers, signal.SIGKILL)
        return len(leftovers)

    def record(self, name: str, pid: int) -> None:
        """A child (re)started: its pid leads its process group."""
        self._groups[name] = pid
        self._write()

    def write_redis(self, pid: int, url: str) -> None:
        self.redis_file.parent.mkdir(parents=True, exist_ok=True)
        self.redis_file.write_text(json.dumps({"pid": pid, "url": url}))

    def write_token(self, token: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.token_file.unlink()
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(token + "\n")
        return self.token_file

    def release(self) -> None:
        """Everything stopped: nothing of this run is left to find."""
        if not self.claimed:
            return
        for path in (self.file, self.redis_file, self.token_file):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
