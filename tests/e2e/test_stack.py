"""Issue 10 end to end: `spamops up --simulate` starts the whole stack and walks the loop.

Exactly what a newcomer's `make demo` runs, on a fresh data directory: the launcher starts
its embedded Redis, upgrades the store, trains the first champion, starts every consumer,
the API, the scheduler, the dashboard and the MLflow UI, then the demo traffic drives
prediction → drift → decision → retraining → promotion → hot reload → alert. A consumer
killed with SIGKILL is restarted. Ctrl-C stops everything; nothing started is left running.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bus.embedded import free_port
from spamops.launcher.proctree import environment_has

pytestmark = [pytest.mark.e2e, pytest.mark.mlflow, pytest.mark.slow]

LOOP_DONE = "the whole loop ran in"
START_TIMEOUT_S = 180.0
LOOP_TIMEOUT_S = 240.0


@dataclass
class Launcher:
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    api: str
    dashboard: str
    mlflow: str

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition: Callable[[str], bool], timeout_s: float, what: str) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.text()
            if condition(text):
                return text
            if self.process.poll() is not None:
                pytest.fail(f"the launcher exited ({self.process.returncode}) before {what}")
            time.sleep(0.5)
        pytest.fail(f"no {what} within {timeout_s:.0f} s; the log ends:\n{self.text()[-4000:]}")

    def survivors(self) -> list[int]:
        """Processes still running that the launcher started (they carry its data dir)."""
        marker = f"SPAMOPS_DATA_DIR={self.data_dir}"
        return [
            int(entry.name)
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit()
            and int(entry.name) != os.getpid()
            and environment_has(int(entry.name), marker)
        ]

    def groups(self) -> dict[str, int]:
        state = json.loads((self.data_dir / "launcher" / "launcher.json").read_text())
        return {str(name): int(pid) for name, pid in state["groups"].items()}


def _launcher_env(data_dir: Path, dataset_path: Path) -> dict[str, str]:
    """The test session's environment minus where it points services: like a fresh shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMOPS_")}
    return env | {
        "SPAMOPS_DATA_DIR": str(data_dir),
        "SPAMOPS_MODEL__DATASET_PATH": str(dataset_path),
        "SPAMOPS_AUTH__JWT_SECRET": os.environ["SPAMOPS_AUTH__JWT_SECRET"],
        "SPAMOPS_API__PORT": str(free_port()),
        "SPAMOPS_DASHBOARD__PORT": str(free_port()),
        "SPAMOPS_LAUNCHER__MLFLOW_PORT": str(free_port()),
        "SPAMOPS_LAUNCHER__COLOUR": "never",
        "SPAMOPS_LAUNCHER__RESTART_BACKOFF_S": "0.5",
    }


@pytest.fixture
def launcher(tmp_path: Path, dataset_path: Path) -> Iterator[Launcher]:
    data_dir = tmp_path / "data"
    env = _launcher_env(data_dir, dataset_path)
    log = tmp_path / "up.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "spamops", "up", "--simulate"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    host = "http://127.0.0.1"
    running = Launcher(
        process,
        data_dir,
        log,
        api=f"{host}:{env['SPAMOPS_API__PORT']}",
        dashboard=f"{host}:{env['SPAMOPS_DASHBOARD__PORT']}",
        mlflow=f"{host}:{env['SPAMOPS_LAUNCHER__MLFLOW_PORT']}",
    )
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in running.survivors():  # only after a failure: the test asserts there are none
            os.kill(pid, signal.SIGKILL)


def _serving_version(text: str) -> int:
    versions = re.findall(r"api\s+\|.*serving spam-classifier v(\d+)", text)
    return int(versions[-1]) if versions else 0


def test_up_runs_the_whole_loop_restarts_a_crash_and_stops_clean(launcher: Launcher) -> None:
    started = time.monotonic()
    launcher.wait_for(lambda t: "spamops is up" in t, START_TIMEOUT_S, "start-up banner")
    token = (launcher.data_dir / "launcher" / "token").read_text().strip()
    assert oct((launcher.data_dir / "launcher" / "token").stat().st_mode & 0o777) == "0o600"
    redis_state = json.loads((launcher.data_dir / "redis" / "server.json").read_text())
    assert redis_state["url"].startswith("redis://127.0.0.1:")

    # Every service answers on the port the banner printed.
    for url in (f"{launcher.dashboard}/_stcore/health", f"{launcher.mlflow}/health"):
        assert httpx.get(url, timeout=10).status_code == 200, url
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.post(
        f"{launcher.api}/predict", json={"message": "see you at 6?"}, headers=headers
    )
    assert first.status_code == 200, first.text
    assert first.json()["model"]["version"] == 1

    # A crashed consumer process comes back on its own.
    groups = launcher.groups()
    os.killpg(groups["consumers-alerts"], signal.SIGKILL)
    launcher.wait_for(
        lambda t: "consumers-alerts exited with code -9; restarting" in t, 30, "restart notice"
    )

    # The demo walks the loop: drift → decision → retraining → promotion, the API hot-reloads.
    text = launcher.wait_for(lambda t: LOOP_DONE in t, LOOP_TIMEOUT_S, "complete loop")
    for milestone in ("predictions", "drift verdict", "decision", "retraining", "promotion"):
        assert re.search(rf"demo\s+\| ✓ {milestone}\s", text), milestone
    assert re.search(r"demo\s+\| ✓ alert\s", text)
    text = launcher.wait_for(lambda t: _serving_version(t) >= 2, 30, "hot reload")
    after = httpx.post(
        f"{launcher.api}/predict", json={"message": "see you at 6?"}, headers=headers
    )
    assert after.json()["model"]["version"] == _serving_version(text) >= 2
    assert launcher.groups()["consumers-alerts"] != groups["consumers-alerts"]

    # Ctrl-C: every process stops, in order, and none is left behind.
    launcher.process.send_signal(signal.SIGINT)
    assert launcher.process.wait(timeout=90) == 0
    assert launcher.survivors() == []
    assert "stopped; nothing is left running" in launcher.text()
    assert not (launcher.data_dir / "redis" / "server.json").exists()
    assert time.monotonic() - started < 300
