"""What `spamops up` starts, what it prints, what it leaves in the data directory."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.main import get_command

from api.app import create_app
from consumers.runner import CONSUMER_FACTORIES
from spamops.cli import app as cli_app
from spamops.launcher import plan, prepare
from spamops.launcher.banner import Urls, banner
from spamops.launcher.output import LogSink, use_colour
from spamops.launcher.proctree import alive
from spamops.launcher.stack import StackError, UpOptions, _check_ports
from spamops.launcher.state import LauncherBusyError, LauncherState
from spamops.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data")


def test_every_consumer_runs_in_exactly_one_process() -> None:
    grouped = [name for names in plan.CONSUMER_PROCESSES.values() for name in names]
    assert sorted(grouped) == sorted(CONSUMER_FACTORIES)
    assert plan.CONSUMER_PROCESSES["consumers-agent"] == ("agent",)  # one agent, alone


def test_consumer_processes_have_distinct_members_and_heartbeat_checks(
    settings: Settings,
) -> None:
    specs = plan.consumer_specs(settings, "redis://127.0.0.1:1/0", {})
    members = [spec.argv[spec.argv.index("--member") + 1] for spec in specs]
    assert len(set(members)) == len(specs) == len(plan.CONSUMER_PROCESSES)
    assert all(spec.ready is not None and spec.restart != "never" for spec in specs)


def test_embedded_redis_keeps_an_aof_in_the_data_dir(settings: Settings) -> None:
    spec = plan.redis_spec(settings, 6390, {})
    argv = list(spec.argv)
    assert argv[argv.index("--appendonly") + 1] == "yes"
    assert argv[argv.index("--appendfsync") + 1] == "everysec"
    assert Path(argv[argv.index("--dir") + 1]) == settings.data_dir / "redis"
    assert spec.tier == 0  # started first, stopped last


def test_demo_settings_are_real_settings() -> None:
    for name, value in plan.DEMO_SETTINGS.items():
        group, _, field = name.removeprefix("SPAMOPS_").lower().partition("__")
        model = Settings.model_fields[group].annotation
        assert model is not None and field in model.model_fields, name
        Settings(_env_file=None, **{group: {field: value}})  # type: ignore[arg-type]


def _urls(tmp_path: Path) -> Urls:
    return Urls(
        api="http://127.0.0.1:8000",
        dashboard="http://127.0.0.1:8501",
        mlflow=None,
        redis="redis://127.0.0.1:1234/0",
        embedded_redis=True,
        log=tmp_path / "up.log",
        token_file=tmp_path / "token",
    )


def test_banner_suggests_only_routes_and_commands_that_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPAMOPS_AUTH__JWT_SECRET", raising=False)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    text = banner(settings, _urls(tmp_path), 12.3, simulate=False)
    assert "spamops is up (12.3 s)" in text and "MLflow UI     off" in text
    assert "development JWT secret" in text  # the default secret is named as such
    schema = create_app(settings, redis=lambda: None, registry=lambda: None).openapi()  # type: ignore[arg-type, return-value]
    for path in re.findall(r"http://127\.0\.0\.1:8000(/[a-z/]+)", text):
        if path != "/docs":
            assert path in schema["paths"], path
    group = get_command(cli_app)
    for line in re.findall(r"^ +spamops ([a-z]+(?: [a-z]+)?)", text, re.MULTILINE):
        name, *sub = line.split()
        command = group.commands[name]  # type: ignore[attr-defined]
        if sub and hasattr(command, "commands"):
            assert sub[0] in command.commands, line


def test_log_sink_prefixes_every_line_and_keeps_the_file_plain(tmp_path: Path) -> None:
    terminal = io.StringIO()
    sink = LogSink(terminal, tmp_path / "logs" / "up.log", colour=True)
    sink.line("api", "started\n")
    sink.say("two\nlines")
    sink.close()
    shown = terminal.getvalue().splitlines()
    assert len(shown) == 3 and "\x1b[" in shown[0] and shown[0].endswith("| started")
    written = (tmp_path / "logs" / "up.log").read_text().splitlines()
    assert [line.split("| ", 1)[1] for line in written] == ["started", "two", "lines"]
    assert all("\x1b[" not in line and " launcher " in line for line in written[1:])
    assert not use_colour("auto", io.StringIO()) and use_colour("always", io.StringIO())


def test_a_busy_port_is_refused_naming_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = plan.Ports(api=port, dashboard=port + 1, mlflow=port + 2)
        with pytest.raises(StackError, match="SPAMOPS_API__PORT"):
            _check_ports(ports, UpOptions(), remote_mlflow=False)


def test_a_second_launcher_on_the_same_data_dir_is_refused(settings: Settings) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        state_file = settings.data_dir / "launcher" / "launcher.json"
        state_file.parent.mkdir(parents=True)
        state_file.write_text(json.dumps({"pid": other.pid, "groups": {}}))
        with pytest.raises(LauncherBusyError, match="already runs"):
            LauncherState(settings).claim()
    finally:
        other.kill()
        other.wait()


def test_leftovers_of_a_killed_launcher_are_stopped_and_only_those(settings: Settings) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    marker = {**os.environ, "SPAMOPS_DATA_DIR": str(settings.data_dir)}
    ours = subprocess.Popen(sleeper, env=marker, start_new_session=True)
    stranger = subprocess.Popen(sleeper, start_new_session=True)  # same group id recorded
    try:
        state_file = settings.data_dir / "launcher" / "launcher.json"
        state_file.parent.mkdir(parents=True)
        dead_launcher = 2**22 + 1  # above pid_max: never alive
        groups = {"api": ours.pid, "scheduler": stranger.pid}
        state_file.write_text(json.dumps({"pid": dead_launcher, "groups": groups}))
        state = LauncherState(settings)
        assert state.claim() == 1
        ours.wait(timeout=10)
        assert alive(stranger.pid)
        state.write_redis(123, "redis://127.0.0.1:1/0")
        token = state.write_token("secret")
        assert token.stat().st_mode & 0o777 == 0o600
        state.release()
        assert not state.file.exists() and not token.exists() and not state.redis_file.exists()
    finally:
        for process in (ours, stranger):
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


class _Steps:
    def __init__(self, fail: str | None = None) -> None:
        self.ran: list[str] = []
        self.fail = fail

    async def __call__(self, name: str, argv: Sequence[str]) -> int:
        self.ran.append(name)
        assert list(argv[:3]) == [sys.executable, "-m", "spamops"]
        return 3 if name == self.fail else 0


def test_prepare_fetches_upgrades_and_trains_when_nothing_exists(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepare, "champion_version", lambda _settings: None)
    steps, said = _Steps(), list[str]()
    asyncio.run(prepare.prepare(settings, steps, said.append))
    assert steps.ran == ["data-fetch", "store-upgrade", "train"]
    assert any("training the first model" in line for line in said)


def test_prepare_keeps_an_existing_champion_and_names_a_failed_step(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, dataset_path: Path
) -> None:
    settings = settings.model_copy(
        update={"model": settings.model.model_copy(update={"dataset_path": dataset_path})}
    )
    monkeypatch.setattr(prepare, "champion_version", lambda _settings: 4)
    steps, said = _Steps(), list[str]()
    asyncio.run(prepare.prepare(settings, steps, said.append))
    assert steps.ran == ["store-upgrade"]
    assert said == [f"champion: {settings.model.registered_name} v4"]
    with pytest.raises(
        prepare.PrepareError, match=r"`spamops store upgrade` failed \(exit code 3\)"
    ):
        asyncio.run(prepare.prepare(settings, _Steps(fail="store-upgrade"), said.append))
