"""`spamops events ...` and `spamops deadletter ...`: looking into the bus."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from bus.errors import DeadLetterNotFoundError
from bus.replay import StoredEvent
from schemas.catalogue import StreamName
from spamops.cli.context import fail, parse_time, settings_of
from spamops.runtime import NoRedisError, open_bus
from spamops.settings import Settings

__all__ = ["register"]

StreamArg = Annotated[StreamName, typer.Argument(help="Stream name, e.g. predictions.")]
Format = Annotated[str, typer.Option("--format", help="jsonl or table.")]


def _line(item: StoredEvent) -> bytes:
    body = orjson.loads(item.event.to_json())
    return orjson.dumps({"entry_id": item.entry_id, **body}) + b"\n"


def _summary(item: StoredEvent) -> str:
    event = item.event
    return f"{item.entry_id}  {event.occurred_at:%Y-%m-%d %H:%M:%S}  {event.type:<22} {event.id}"


def _emit(item: StoredEvent, fmt: str) -> None:
    if fmt == "jsonl":
        sys.stdout.buffer.write(_line(item))
        sys.stdout.flush()
    else:
        typer.echo(_summary(item))


def _run(coro: object) -> None:
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except NoRedisError as exc:
        raise fail(str(exc)) from None


async def _replay(
    settings: Settings,
    stream: StreamName,
    since: str | None,
    until: str | None,
    types: list[str] | None,
    fmt: str,
) -> None:
    async with open_bus(settings, "cli") as bus:
        async for item in bus.replay(
            stream, since=parse_time(since), until=parse_time(until), types=types
        ):
            _emit(item, fmt)


async def _tail(settings: Settings, stream: StreamName, types: list[str] | None, fmt: str) -> None:
    async with open_bus(settings, "cli") as bus:
        async for item in bus.tail(stream, types=types):
            _emit(item, fmt)


async def _stats(settings: Settings) -> None:
    async with open_bus(settings, "cli") as bus:
        rows = await bus.stats()
    table = Table(title="streams")
    for col in ("stream", "length", "group", "consumers", "pending", "lag"):
        table.add_column(col, justify="right" if col not in ("stream", "group") else "left")
    for s in rows:
        if not s.groups:
            table.add_row(str(s.stream), str(s.length), "-", "-", "-", "-")
        for g in s.groups:
            lag = str(g.lag) if g.lag_exact else f"≤{g.lag}"
            table.add_row(
                str(s.stream), str(s.length), g.name, str(g.consumers), str(g.pending), lag
            )
    Console().print(table)


async def _dl_list(settings: Settings, limit: int, fmt: str) -> None:
    async with open_bus(settings, "cli") as bus:
        letters = await bus.dead_letters.list(limit)
    if fmt == "jsonl":
        for dl in letters:
            _emit(StoredEvent(dl.entry_id, dl.event), fmt)
        return
    table = Table(title=f"dead letters (newest {limit})")
    for col in ("id", "stream", "group", "deliveries", "error"):
        table.add_column(col)
    for dl in letters:
        p = dl.event.payload
        table.add_row(dl.entry_id, p.stream, p.group, str(p.deliveries), p.error[:80])
    Console().print(table)


async def _dl_requeue(settings: Settings, entry_id: str) -> None:
    async with open_bus(settings, "cli") as bus:
        try:
            new_id = await bus.dead_letters.requeue(entry_id)
        except DeadLetterNotFoundError as exc:
            raise fail(str(exc)) from None
    typer.echo(f"requeued {entry_id} as {new_id}")


def register(app: typer.Typer) -> None:
    events = typer.Typer(help="Read the event streams.", no_args_is_help=True)
    deadletter = typer.Typer(help="Inspect and requeue dead letters.", no_args_is_help=True)

    @events.command("replay")
    def replay_cmd(
        ctx: typer.Context,
        stream: StreamArg,
        since: Annotated[str | None, typer.Option(help="ISO time or age (15m, 2h, 7d).")] = None,
        until: Annotated[str | None, typer.Option(help="ISO time or age.")] = None,
        type_: Annotated[list[str] | None, typer.Option("--type", help="Event type.")] = None,
        fmt: Format = "jsonl",
    ) -> None:
        """Print the events of STREAM in a time range, oldest first."""
        _run(_replay(settings_of(ctx), stream, since, until, type_, fmt))

    @events.command("tail")
    def tail_cmd(
        ctx: typer.Context,
        stream: StreamArg,
        type_: Annotated[list[str] | None, typer.Option("--type", help="Event type.")] = None,
        fmt: Format = "table",
    ) -> None:
        """Follow STREAM and print events as they arrive (Ctrl-C to stop)."""
        try:
            _run(_tail(settings_of(ctx), stream, type_, fmt))
        except KeyboardInterrupt:
            raise typer.Exit(0) from None

    @events.command("stats")
    def stats_cmd(ctx: typer.Context) -> None:
        """Length of every stream; consumers, pending and lag of every group."""
        _run(_stats(settings_of(ctx)))

    @deadletter.command("list")
    def dl_list(ctx: typer.Context, limit: int = 50, fmt: Format = "table") -> None:
        """The newest dead letters with the reason they were dead-lettered."""
        _run(_dl_list(settings_of(ctx), limit, fmt))

    @deadletter.command("requeue")
    def dl_requeue(ctx: typer.Context, entry_id: str) -> None:
        """Put dead letter ENTRY_ID back on its stream (after fixing the consumer)."""
        _run(_dl_requeue(settings_of(ctx), entry_id))

    app.add_typer(events, name="events")
    app.add_typer(deadletter, name="deadletter")
