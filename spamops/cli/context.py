"""Helpers shared by CLI command modules."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from spamops.settings import Settings

__all__ = ["fail", "parse_time", "settings_of"]


def settings_of(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        raise typer.BadParameter("settings were not initialised")
    return root.obj


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error (cause and fix) and return the exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601 time, or a relative age like `15m`, `2h`, `7d` (meaning that long ago)."""
    if value is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if value[-1:] in units and value[:-1].isdigit():
        from datetime import timedelta

        return datetime.now(UTC) - timedelta(seconds=int(value[:-1]) * units[value[-1]])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither ISO 8601 (2026-01-31T12:00) nor an age like 15m, 2h, 7d"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
