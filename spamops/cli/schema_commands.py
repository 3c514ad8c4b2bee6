"""`spamops schemas export`: JSON Schema of every event type."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas.export import write_event_schemas

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    schemas_app = typer.Typer(help="Event schemas for non-Python consumers.", no_args_is_help=True)

    @schemas_app.command("export")
    def export(
        directory: Annotated[Path, typer.Argument(help="Output folder.")] = Path("docs/events"),
    ) -> None:
        """Write one JSON Schema file per event type into DIRECTORY."""
        written = write_event_schemas(directory)
        typer.echo(f"wrote {len(written)} schemas to {directory}")

    app.add_typer(schemas_app, name="schemas")
