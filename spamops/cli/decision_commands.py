"""`spamops decisions replay`: which recorded agent decisions would today's rules change?

Reads the agent's streams from `--since` minus the history the agent keeps (so that each
decision's situation can be rebuilt), re-decides every `decision.made` in the range with
the rule policy and the hard guards, and lists those that would now differ (with `--all`,
every one). Decisions whose inputs are no longer in the streams are listed as incomplete.
The exit code is 0 whether or not anything differs: this is a report, not a check.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
import typer
from rich.console import Console
from rich.table import Table

from consumers.agent.replay import Replayed, history, replay_decisions
from schemas.decisions import Decision
from spamops.cli.context import fail, parse_time, settings_of
from spamops.runtime import NoRedisError, open_bus
from spamops.settings import Settings

__all__ = ["register", "replay_record"]


def _brief(d: Decision | None) -> str:
    if d is None:
        return "-"
    text = d.action + (f" v{d.target_version}" if d.target_version else "")
    return f"{text} (blocked: {d.blocked_by.split(':')[0]})" if d.blocked_by else text


def replay_record(r: Replayed) -> dict[str, Any]:
    """One replayed decision as a JSON object (one line of `--format jsonl`)."""
    rec, again = r.recorded, r.again
    return {
        "decision_id": str(r.decision.id),
        "occurred_at": r.decision.occurred_at.isoformat(),
        "trigger_id": str(r.decision.correlation),
        "trigger_type": r.trigger_type,
        "status": r.status,
        "recorded": rec.model_dump(
            mode="json",
            include={
                "policy",
                "llm_model",
                "prompt_version",
                "fell_back",
                "action",
                "target_version",
                "blocked_by",
                "rationale",
            },
        ),
        "replayed": None
        if again is None
        else again.model_dump(
            mode="json", include={"action", "target_version", "blocked_by", "rationale"}
        ),
        "missing": [str(i) for i in r.missing],
    }


def _table(rows: list[Replayed], title: str) -> None:
    table = Table(title=title)
    for col in ("decided at", "trigger", "recorded", "rules now", "status", "decision"):
        table.add_column(col)
    for r in rows:
        who = r.recorded.policy + (" (fell back)" if r.recorded.fell_back else "")
        table.add_row(
            f"{r.decision.occurred_at:%Y-%m-%d %H:%M:%S}",
            r.trigger_type or "?",
            f"{who}: {_brief(r.recorded)}",
            _brief(r.again),
            r.status,
            str(r.decision.id),
        )
    Console(width=180).print(table)


async def _replay(
    settings: Settings, since: datetime, until: datetime | None, history_days: float
) -> list[Replayed]:
    async with open_bus(settings, "cli") as bus:
        events = await history(bus, since - timedelta(days=history_days), until)
    return await replay_decisions(events, settings, since=since, until=until)


def register(app: typer.Typer) -> None:
    decisions = typer.Typer(help="Agent decisions.", no_args_is_help=True)

    @decisions.command("replay")
    def replay_cmd(
        ctx: typer.Context,
        since: Annotated[str, typer.Option(help="ISO time or age (15m, 2h, 7d).")],
        until: Annotated[str | None, typer.Option(help="ISO time or age.")] = None,
        fmt: Annotated[
            Literal["table", "jsonl"], typer.Option("--format", help="table or jsonl.")
        ] = "table",
        show_all: Annotated[
            bool, typer.Option("--all", help="List every replayed decision, not only changes.")
        ] = False,
        history_days: Annotated[
            float | None,
            typer.Option(help="History read before --since (default: the agent's own)."),
        ] = None,
    ) -> None:
        """Re-run the rule policy on recorded decisions; list those that would differ."""
        settings = settings_of(ctx)
        start = parse_time(since) or datetime.now(UTC)
        days = settings.agent.history_days if history_days is None else history_days
        try:
            replayed = asyncio.run(_replay(settings, start, parse_time(until), days))
        except NoRedisError as exc:
            raise fail(str(exc)) from None
        shown = [r for r in replayed if show_all or r.status != "same"]
        counts = {s: sum(r.status == s for r in replayed) for s in ("differs", "incomplete")}
        summary = (
            f"{len(replayed)} decisions replayed: {counts['differs']} would differ, "
            f"{counts['incomplete']} incomplete"
        )
        if counts["incomplete"]:
            summary += " (inputs no longer in the streams; try a longer --history-days)"
        if fmt == "jsonl":
            for r in shown:
                sys.stdout.buffer.write(orjson.dumps(replay_record(r)) + b"\n")
            sys.stdout.flush()
            typer.echo(summary, err=True)
        else:
            _table(shown, "replayed decisions" if show_all else "decisions that would differ")
            typer.echo(summary)

    app.add_typer(decisions, name="decisions")
