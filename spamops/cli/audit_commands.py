"""`spamops audit ...`: verify, anchor, export, explain and backfill the audit log.

Exit codes of `verify`: 0 the chain is intact, 1 it is broken (the first broken link is
printed), 2 it could not be checked (database unreachable, unreadable file).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spamops.cli.context import fail, parse_time, settings_of
from spamops.runtime import NoRedisError, open_bus
from spamops.settings import Settings
from store.engine import create_store_engine
from store.errors import StoreError

if TYPE_CHECKING:
    from store.audit.backfill import BackfillReport
    from store.audit.explain import ExplainedEvent, Explanation
    from store.audit.verify import Verification

__all__ = ["register"]

_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CANNOT_CHECK = 2


def _anchors(values: list[str]) -> dict[int, str]:
    anchors: dict[int, str] = {}
    for value in values:
        match = _ANCHOR.match(value.strip().lower())
        if match is None:
            raise typer.BadParameter(f"{value!r} is not SEQ:HASH (e.g. 1042:9f86d0…, 64 hex)")
        anchors[int(match[1])] = match[2]
    return anchors


def _duration(value: str) -> timedelta:
    if value[-1:] in _UNITS and value[:-1].isdigit():
        return timedelta(seconds=int(value[:-1]) * _UNITS[value[-1]])
    raise typer.BadParameter(f"{value!r} is not a duration like 30d, 12h, 90m")


def _report(result: Verification, what: str, as_json: bool) -> None:
    broken = result.broken
    if as_json:
        values = {
            "ok": result.ok,
            "checked": result.checked,
            "start": result.start.anchor(),
            "last": result.last.anchor() if result.last else None,
            "anchored": list(result.anchored),
            "unchecked_anchors": list(result.unchecked_anchors),
            "broken": None
            if broken is None
            else {
                "seq": broken.seq,
                "event_id": broken.event_id,
                "kind": broken.kind,
                "detail": broken.detail,
            },
        }
        typer.echo(json.dumps(values, indent=2))
        return
    if broken is not None:
        event = f", event {broken.event_id}" if broken.event_id else ""
        typer.secho(f"BROKEN at row {broken.seq}{event} ({broken.kind})", fg="red", bold=True)
        typer.echo(f"  {broken.detail}")
        typer.echo(f"  rows 1–{result.last.seq if result.last else 0} before it check out")
        return
    last = result.last.anchor() if result.last else "none (empty)"
    typer.secho(f"OK: {what}: {result.checked} rows, chain intact", fg="green")
    if result.start.seq:
        trust = "anchored" if result.start.seq in result.anchored else "taken on trust: anchor it"
        typer.echo(f"  starts after row {result.start.anchor()} ({trust})")
    typer.echo(f"  last  {last}")
    if result.anchored:
        typer.echo(f"  anchors matched at rows {', '.join(map(str, result.anchored))}")
    for seq in result.unchecked_anchors:
        typer.echo(f"  anchor at row {seq} is before this file's rows: not checked")


def _print_events(title: str, events: list[ExplainedEvent]) -> None:
    typer.secho(title, bold=True)
    if not events:
        typer.echo("  (none)")
    for e in events:
        flag = "" if e.intact else "  [HASH MISMATCH: run `spamops audit verify`]"
        when = e.occurred_at.isoformat(timespec="seconds")
        typer.echo(f"  seq {e.seq:<6} {when}  {e.type}: {e.summary}{flag}")
        typer.echo(f"             ↳ {e.link}")


def _print_explanation(story: Explanation) -> None:
    p = story.prediction
    typer.secho(f"prediction {story.prediction_id}", bold=True)
    typer.echo(f"  seq {p.seq}, event {p.event_id}, {p.occurred_at.isoformat()}")
    alias = story.model_alias or "no alias"
    typer.echo(
        f"  classified by {story.model_name} v{story.model_version} ({alias}), variant "
        f"{story.variant}, request {story.request_id or '-'}"
    )
    typer.echo(f"  {p.summary}" + ("" if p.intact else "  [HASH MISMATCH]"))
    _print_events("who called", story.callers)
    _print_events("feedback", story.feedback)
    _print_events("drift and performance windows covering it", story.windows)
    _print_events("what followed (decisions, retraining, promotions)", story.followed)
    _print_events("later alias changes of the model", story.later_alias_changes)


async def _backfill(settings: Settings, dry_run: bool) -> BackfillReport:
    from store.audit.backfill import backfill
    from store.migrate import upgrade

    engine = create_store_engine(settings)
    try:
        await asyncio.to_thread(upgrade, engine)
        async with open_bus(settings, "audit-backfill") as bus:
            return await backfill(bus, engine, dry_run=dry_run)
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    audit = typer.Typer(
        help="The tamper-evident audit log: verify, head, export, explain, backfill.",
        no_args_is_help=True,
    )

    @audit.command("verify")
    def verify_cmd(
        ctx: typer.Context,
        file: Annotated[
            Path | None, typer.Option("--file", help="Verify an export file, not the database.")
        ] = None,
        anchor: Annotated[
            list[str] | None,
            typer.Option(help="SEQ:HASH of a head stored elsewhere (repeatable)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
    ) -> None:
        """Recompute the hash chain; exit 1 with the first broken link if there is one."""
        from store.audit.export import verify_file
        from store.audit.verify import verify_database

        pins = _anchors(anchor or [])
        engine = None
        try:
            if file is not None:
                result, what = verify_file(file, anchors=pins), str(file)
            else:
                engine = create_store_engine(settings_of(ctx))
                result, what = verify_database(engine, anchors=pins), "audit log"
        except (StoreError, OSError, UnicodeDecodeError) as exc:
            raise fail(str(exc), CANNOT_CHECK) from None
        finally:
            if engine is not None:
                engine.dispose()
        _report(result, what, as_json)
        if not result.ok:
            raise typer.Exit(1)

    @audit.command("head")
    def head_cmd(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
    ) -> None:
        """The newest sequence number and hash: store it outside the database (an anchor)."""
        from store.audit.read import head_of

        engine = create_store_engine(settings_of(ctx))
        try:
            head = head_of(engine)
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        if head is None:
            raise fail("the audit log is empty: nothing to anchor yet")
        if as_json:
            typer.echo(json.dumps({"seq": head.seq, "hash": head.hash, "anchor": head.anchor()}))
        else:
            typer.echo(head.anchor())

    @audit.command("export")
    def export_cmd(
        ctx: typer.Context,
        since: Annotated[str | None, typer.Option(help="ISO time or age (7d).")] = None,
        until: Annotated[str | None, typer.Option(help="ISO time or age.")] = None,
        from_seq: Annotated[int | None, typer.Option(min=1, help="First row.")] = None,
        to_seq: Annotated[int | None, typer.Option(min=1, help="Last row.")] = None,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
        ] = None,
    ) -> None:
        """Write a contiguous stretch of the chain as JSON Lines, re-verifiable offline."""
        from store.audit.export import export_jsonl

        engine = create_store_engine(settings_of(ctx))
        window = {"since": parse_time(since), "until": parse_time(until)}
        try:
            if output is None:
                summary = export_jsonl(
                    engine, sys.stdout, from_seq=from_seq, to_seq=to_seq, **window
                )
            else:
                with output.open("w", encoding="utf-8") as out:
                    summary = export_jsonl(engine, out, from_seq=from_seq, to_seq=to_seq, **window)
        except (StoreError, OSError) as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        if summary.first is None or summary.last is None:
            typer.echo("exported 0 rows (nothing in that range)", err=True)
            return
        typer.echo(
            f"exported {summary.count} rows {summary.first.seq + 1}–{summary.last.seq}; "
            f"hangs on {summary.first.anchor()}, ends at {summary.last.anchor()}",
            err=True,
        )

    @audit.command("explain")
    def explain_cmd(
        ctx: typer.Context,
        prediction_id: Annotated[uuid.UUID, typer.Argument(help="Prediction id (or event id).")],
        horizon: Annotated[str, typer.Option(help="How far after it to look.")] = "30d",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
    ) -> None:
        """Which model classified it, who called, and what followed, with audit row numbers."""
        from store.audit.explain import explain
        from store.engine import read_session

        span = _duration(horizon)
        engine = create_store_engine(settings_of(ctx))
        try:
            with read_session(engine) as session:
                story = explain(session, prediction_id, horizon=span)
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        if story is None:
            raise fail(f"no prediction {prediction_id} in the audit log")
        if as_json:
            typer.echo(story.model_dump_json(indent=2))
        else:
            _print_explanation(story)

    @audit.command("backfill")
    def backfill_cmd(
        ctx: typer.Context,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Only count what is missing.")
        ] = False,
    ) -> None:
        """Append every event the streams still hold that the audit log lacks."""
        try:
            report = asyncio.run(_backfill(settings_of(ctx), dry_run))
        except (StoreError, NoRedisError) as exc:
            raise fail(str(exc)) from None
        missing = sum(report.missing.values())
        detail = ", ".join(f"{s} {n}" for s, n in sorted(report.missing.items()))
        verb = "would append" if dry_run else "appended"
        count = missing if dry_run else report.appended
        typer.echo(f"streams hold {report.seen} events; log lacked {missing} ({detail or '-'})")
        typer.echo(f"{verb} {count}")

    app.add_typer(audit, name="audit")
