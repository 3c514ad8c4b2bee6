"""`.env.example` is generated from `Settings`: it is current, complete and correct."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from spamops.cli import config_commands
from spamops.envfile import STACK_VARIABLES, env_example, main, settings_variables
from spamops.settings import DEV_JWT_SECRET, Settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / ".env.example"
LINE = re.compile(r"^# ([A-Z][A-Z0-9_]*)=(.*)$")


def test_the_committed_file_is_the_generated_text() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == env_example(), (
        ".env.example is stale: spamops config env-example -o .env.example"
    )


def test_every_setting_is_listed_once() -> None:
    names = [v.name for v in settings_variables()]
    assert len(names) == len(set(names))
    listed = [m.group(1) for m in map(LINE.match, env_example().splitlines()) if m]
    assert sorted(listed) == sorted(names + [v.name for v in STACK_VARIABLES])
    # nested groups, two levels deep, inherited fields, comma lists
    for name in (
        "SPAMOPS_ENV",
        "SPAMOPS_BUS__MAX_DELIVERIES",
        "SPAMOPS_RETENTION__FEEDBACK__MAX_AGE",
        "SPAMOPS_ALERTS__SLACK__ATTEMPTS",
        "SPAMOPS_ALERTS__EMAIL__TO",
        "SPAMOPS_LAUNCHER__MLFLOW_PORT",
    ):
        assert name in names, name


def test_documentation_comes_from_the_settings_source() -> None:
    text = env_example()
    # an attribute docstring, a comment beside a field, a comment heading fields
    assert "#   Closed by default: browsers on other origins may not call the API." in text
    assert "#   default: <data_dir>/spool/events.jsonl\n# SPAMOPS_BUS__SPOOL_FILE=" in text
    assert "## Buffered publisher (request paths).\n# SPAMOPS_BUS__QUEUE_SIZE=100000" in text


def test_secrets_never_show_a_value() -> None:
    text = env_example()
    assert DEV_JWT_SECRET not in text
    secrets = [v for v in settings_variables() if v.secret]
    assert {v.name for v in secrets} >= {
        "SPAMOPS_AUTH__JWT_SECRET",
        "SPAMOPS_ALERTS__SLACK__WEBHOOK_URL",
        "SPAMOPS_ALERTS__EMAIL__PASSWORD",
        "SPAMOPS_DASHBOARD__TOKEN",
    }
    for variable in secrets:
        assert variable.value in (None, "[]"), variable.name


def test_every_value_builds_the_default_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uncommented, the file is a valid `.env` that changes nothing: names, formats (JSON,
    ISO 8601 durations, comma lists, quoted crontab) and values are the real ones."""
    for key in list(os.environ):
        if key.startswith("SPAMOPS_"):
            monkeypatch.delenv(key)
    lines = [line[2:] for line in env_example().splitlines() if re.match(r"^# [A-Z_]+=.", line)]
    assert len(lines) > 100
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = Settings(_env_file=env_file, instance="x")
    assert loaded == Settings(_env_file=None, instance="x")
    # ... and a changed value does change the settings (the check can fail)
    env_file.write_text("SPAMOPS_RETENTION__FEEDBACK__MAX_AGE=P7D\n", encoding="utf-8")
    changed = Settings(_env_file=env_file, instance="x")
    assert changed != Settings(_env_file=None, instance="x")


def test_check_mode_detects_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / ".env.example"
    stale.write_text(env_example().replace("SPAMOPS_BUS__BATCH_SIZE=500", "X=1"))
    assert main(["--check", str(stale)]) == 1
    assert main(["-o", str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0


def test_cli_command(tmp_path: Path) -> None:
    """`spamops config env-example`, on an app of its own (the command needs no settings)."""
    cli = typer.Typer()
    cli.callback()(lambda: None)
    config_commands.register(cli)
    runner = CliRunner()
    printed = runner.invoke(cli, ["config", "env-example"])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == env_example()
    target = tmp_path / "env"
    assert runner.invoke(cli, ["config", "env-example", "-o", str(target)]).exit_code == 0
    assert target.read_text() == env_example()
    target.write_text("stale\n")
    stale = runner.invoke(cli, ["config", "env-example", "--check", str(target)])
    assert stale.exit_code == 1
