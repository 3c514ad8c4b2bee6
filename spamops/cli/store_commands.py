"""`spamops store ...`: migrate, inspect and rebuild the SQL store."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from spamops.cli.context import fail, settings_of
from spamops.runtime import NoRedisError, open_bus
from spamops.settings import Settings
from store.engine import create_store_engine
from store.errors import StoreError, masked

if TYPE_CHECKING:
    from store.rebuild import RebuildReport

__all__ = ["register"]


async def _rebuild(settings: Settings, wipe: bool) -> RebuildReport:
    from store.rebuild import rebuild, stream_events

    engine = create_store_engine(settings)
    try:
        async with open_bus(settings, "store-rebuild") as bus:
            return await rebuild(
                engine,
                stream_events(bus),
                batch_size=settings.store.rebuild_batch_size,
                wipe_first=wipe,
            )
    finally:
        engine.dispose()


def _upgrade(settings: Settings, revision: str) -> str | None:
    from store.migrate import upgrade

    engine = create_store_engine(settings)
    try:
        return upgrade(engine, revision)
    finally:
        engine.dispose()


def _status(settings: Settings) -> None:
    from store.migrate import current_revision, head_revision
    from store.rebuild import row_counts

    engine = create_store_engine(settings)
    try:
        current, head = current_revision(engine), head_revision()
        counts = row_counts(engine) if current == head else {}
    finally:
        engine.dispose()
    typer.echo(f"database  {masked(settings.resolved_database_url)}")
    state = "up to date" if current == head else "run `spamops store upgrade`"
    typer.echo(f"schema    {current or 'none'} (code: {head}; {state})")
    if counts:
        table = Table(title="rows")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, n in counts.items():
            table.add_row(name, str(n))
        Console().print(table)


def register(app: typer.Typer) -> None:
    store = typer.Typer(help="The SQL store: migrations, status, rebuild.", no_args_is_help=True)

    @store.command("upgrade")
    def upgrade_cmd(
        ctx: typer.Context,
        revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
        sql: Annotated[bool, typer.Option("--sql", help="Print the SQL, run nothing.")] = False,
    ) -> None:
        """Apply the schema migrations (safe to run at every start, and concurrently)."""
        settings = settings_of(ctx)
        try:
            if sql:
                from store.migrate import upgrade_sql

                typer.echo(upgrade_sql(settings.resolved_database_url, revision), nl=False)
                return
            reached = _upgrade(settings, revision)
        except StoreError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"{masked(settings.resolved_database_url)} is at revision {reached}")

    @store.command("status")
    def status_cmd(ctx: typer.Context) -> None:
        """The database, its schema revision against the code's, and rows per table."""
        try:
            _status(settings_of(ctx))
        except StoreError as exc:
            raise fail(str(exc)) from None

    @store.command("rebuild")
    def rebuild_cmd(
        ctx: typer.Context,
        wipe: Annotated[
            bool, typer.Option("--wipe", help="Delete the projected rows first.")
        ] = False,
    ) -> None:
        """Replay the streams into an empty database through the projector's code.

        Stop the projector first (or point SPAMOPS_DATABASE_URL at a new database and
        switch the projector to it afterwards): events it acknowledges during the rebuild
        would be in the old database only.
        """
        try:
            report = asyncio.run(_rebuild(settings_of(ctx), wipe))
        except (StoreError, NoRedisError) as exc:
            raise fail(str(exc)) from None
        total = sum(report.rows.values())
        typer.echo(f"replayed {report.events} events into {total} rows in {report.seconds:.1f} s")
        for event_id, error in report.rejected:
            typer.secho(f"skipped {event_id}: {error}", fg=typer.colors.YELLOW, err=True)

    @store.command("revision")
    def revision_cmd(
        ctx: typer.Context,
        message: Annotated[str, typer.Argument(help="What the migration changes.")],
    ) -> None:
        """(Developers) autogenerate the next migration from the models; review it after."""
        from store.migrate import new_revision, upgrade

        engine = create_store_engine(settings_of(ctx))
        try:
            upgrade(engine)
            typer.echo(new_revision(engine, message))
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()

    app.add_typer(store, name="store")
