"""The `spamops` command line. Settings are built once here and handed to each command."""

from __future__ import annotations

import logging

import typer

from spamops.cli import (
    alert_commands,
    bus_commands,
    consume_commands,
    decision_commands,
    ml_commands,
    scheduler_commands,
    schema_commands,
    serve_commands,
    simulate_commands,
    store_commands,
)
from spamops.cli.context import settings_of
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
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = load_settings()


bus_commands.register(app)
alert_commands.register(app)
ml_commands.register(app)
consume_commands.register(app)
decision_commands.register(app)
serve_commands.register(app)
scheduler_commands.register(app)
simulate_commands.register(app)
schema_commands.register(app)
store_commands.register(app)


def main() -> None:
    app()
