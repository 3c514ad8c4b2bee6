"""The `spamops` command line. Settings are built once here and handed to each command."""

from __future__ import annotations

import typer

from spamops.cli import (
    abtest_commands,
    alert_commands,
    audit_commands,
    auth_commands,
    bus_commands,
    config_commands,
    consume_commands,
    dashboard_commands,
    decision_commands,
    ml_commands,
    scheduler_commands,
    schema_commands,
    serve_commands,
    simulate_commands,
    store_commands,
    up_commands,
)
from spamops.cli.context import settings_of
from spamops.logs import configure_logging
from spamops.settings import load_settings

__all__ = ["app", "main", "settings_of"]

app = typer.Typer(
    name="spamops",
    help="Event-driven MLOps for SMS spam detection.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
) -> None:
    settings = load_settings()
    # Long-running commands log JSON (or text, by SPAMOPS_LOG_FORMAT); one-shot commands
    # print for people and log warnings only.
    command = ctx.invoked_subcommand or ""
    service = command in {"consume", "scheduler", "serve", "up"}
    level = "DEBUG" if verbose else settings.log_level if service else "WARNING"
    configure_logging(command or "cli", level, settings.log_format if service else "text")
    ctx.obj = settings


bus_commands.register(app)
alert_commands.register(app)
auth_commands.register(app)
ml_commands.register(app)
consume_commands.register(app)
dashboard_commands.register(app)
decision_commands.register(app)
serve_commands.register(app)
scheduler_commands.register(app)
simulate_commands.register(app)
schema_commands.register(app)
store_commands.register(app)
audit_commands.register(app)
abtest_commands.register(app)
up_commands.register(app)
config_commands.register(app)


def main() -> None:
    app()
