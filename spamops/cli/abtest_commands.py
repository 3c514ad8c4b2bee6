"""`spamops abtest replay`: an A/B test of a candidate on recorded, labelled traffic.

Takes the labelled production messages of a period from the store (one per distinct
text, newest label), scores them offline with the champion (or `--champion`) and the
candidate, and reports what a live shadow test would: per-model error rate, spam recall,
ham false-positive rate and scoring latency, the effect with its always-valid interval and
p-value, the planned sample size, and after how many messages a live test would have
stopped. Nobody is exposed to the candidate. Both models are scored here (rather than
reusing the served labels) so that every message is judged by exactly the two versions
compared, whatever was serving when it came in.

The store, MLflow and scikit-learn are imported inside the command, so `spamops --help`
stays fast.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import orjson
import typer
from rich.console import Console
from rich.table import Table

from spamops.cli.context import fail, parse_time, settings_of
from spamops.settings import Settings

if TYPE_CHECKING:
    from ml.abtest import Design, OfflineResult
    from store.records import LabelledMessage

__all__ = ["register", "replay_report"]


def _labelled(
    settings: Settings, since: datetime | None, until: datetime | None, limit: int | None
) -> list[LabelledMessage]:
    from store.engine import create_store_engine, read_session
    from store.migrate import ensure_current
    from store.queries import labelled_messages

    engine = create_store_engine(settings)
    try:
        ensure_current(engine)
        with read_session(engine) as session:
            rows = labelled_messages(session, since=since)
    finally:
        engine.dispose()
    rows = [r for r in rows if until is None or r.labelled_at <= until]
    return rows[-limit:] if limit else rows


def _score(model: Any, texts: list[str]) -> tuple[list[Any], list[float]]:
    """Labels and per-message scoring time (ms) of one model."""
    labels, times = [], []
    for text in texts:
        start = time.perf_counter()
        probability = model.score(text)
        times.append((time.perf_counter() - start) * 1000)
        labels.append(model.label(probability))
    return labels, times


def replay_report(
    result: OfflineResult, design: Design, champion: int, challenger: int
) -> dict[str, Any]:
    """The replay as one JSON object (`--format json`)."""
    r = result.reading
    arms = [
        result.counts.champion.stats("champion", champion),
        result.counts.challenger.stats("challenger", challenger),
    ]
    return {
        "champion_version": champion,
        "challenger_version": challenger,
        "n": result.counts.pair.n,
        "arms": [a.model_dump(mode="json") for a in arms],
        "discordant": {
            "champion_only_wrong": result.counts.pair.b,
            "challenger_only_wrong": result.counts.pair.c,
        },
        "effect": r.effect,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "p_value": r.p_value,
        "mcnemar_p": result.mcnemar_p,
        "alpha": design.alpha,
        "min_effect": design.min_effect,
        "min_samples": design.min_samples,
        "planned_samples": r.planned_samples,
        "verdict": r.verdict if r.ready else "too_few_samples",
        "winner": r.winner,
        "stopped_at": result.stopped_at,
        "stopped_verdict": result.stopped_verdict,
    }


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _print(report: dict[str, Any]) -> None:
    table = Table(
        title=f"replay: v{report['challenger_version']} against "
        f"v{report['champion_version']} on {report['n']} labelled messages"
    )
    for col in ("model", "n", "errors", "error rate", "spam recall", "ham FPR", "p50 ms", "p95 ms"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for a in report["arms"]:
        table.add_row(
            f"v{a['model_version']} ({a['variant']})",
            str(a["n"]),
            str(a["errors"]),
            _pct(a["error_rate"]),
            _pct(a["spam_recall"]),
            _pct(a["ham_fpr"]),
            _ms(a["latency_p50_ms"]),
            _ms(a["latency_p95_ms"]),
        )
    console = Console(width=160)
    console.print(table)
    d = report["discordant"]
    verdict = report["verdict"]
    if verdict == "too_few_samples":
        verdict = f"too few samples (fewer than min_samples={report['min_samples']})"
    stop = report["stopped_at"]
    lines = [
        f"effect (challenger - champion error rate): {report['effect']:+.4f}, "
        f"always-valid {1 - report['alpha']:.0%} CI [{report['ci_low']:+.4f}, "
        f"{report['ci_high']:+.4f}]",
        f"p-value (always-valid): {report['p_value']:.4g}; McNemar exact, one look: "
        f"{report['mcnemar_p']:.4g}; discordant: {d['champion_only_wrong']} only the champion "
        f"wrong, {d['challenger_only_wrong']} only the challenger",
        f"verdict: {verdict}; winner: {report['winner']}",
        f"planned samples (min effect {report['min_effect']}): {report['planned_samples']}; "
        + (
            f"a live shadow test would have stopped after {stop} ({report['stopped_verdict']})"
            if stop
            else "a live shadow test would not have stopped yet"
        ),
    ]
    for line in lines:
        console.print(line, highlight=False)


def register(app: typer.Typer) -> None:
    abtest = typer.Typer(help="A/B tests of model versions.", no_args_is_help=True)

    @abtest.command("replay")
    def replay_cmd(
        ctx: typer.Context,
        challenger: Annotated[int, typer.Option(help="The candidate model version.")],
        since: Annotated[str, typer.Option(help="Labels from: ISO time or age (15m, 2h, 7d).")],
        until: Annotated[str | None, typer.Option(help="Labels until: ISO time or age.")] = None,
        champion: Annotated[
            int | None, typer.Option(help="Version to compare with (default: the champion).")
        ] = None,
        limit: Annotated[
            int | None, typer.Option(min=1, help="Only the newest N messages.")
        ] = None,
        alpha: Annotated[
            float | None,
            typer.Option(min=1e-6, max=0.5, help="False-winner rate (default: settings)."),
        ] = None,
        min_effect: Annotated[
            float | None,
            typer.Option(
                min=1e-4, max=0.5, help="Smallest effect worth acting on (default: settings)."
            ),
        ] = None,
        min_samples: Annotated[
            int | None, typer.Option(min=1, help="Labels before a verdict (default: settings).")
        ] = None,
        fmt: Annotated[
            Literal["table", "json"], typer.Option("--format", help="table or json.")
        ] = "table",
    ) -> None:
        """Score labelled traffic with a candidate offline; report the A/B statistics."""
        from ml.abtest import Design, offline_paired
        from ml.errors import MLError
        from ml.registry import ModelRegistry
        from store.errors import StoreError

        settings = settings_of(ctx)
        ab = settings.abtest
        design = Design(
            paired=True,
            alpha=ab.alpha if alpha is None else alpha,
            min_effect=ab.min_effect if min_effect is None else min_effect,
            min_samples=ab.min_samples if min_samples is None else min_samples,
            split=ab.split,
            power=ab.power,
            baseline_error=ab.baseline_error_rate,
        )
        start, end = parse_time(since), parse_time(until)
        try:
            rows = _labelled(settings, start, end, limit)
            registry = ModelRegistry(settings)
            base = champion if champion is not None else registry.champion_version()
            if base is None:
                raise fail("there is no champion to compare with; pass --champion VERSION")
            if base == challenger:
                raise fail(f"v{challenger} is the champion; name another --challenger")
            if not rows:
                raise fail(
                    f"no labelled messages since {since} in the store "
                    "(feedback reaches it through the projector)"
                )
            texts = [r.text for r in rows]
            a_labels, a_ms = _score(registry.load_version(base), texts)
            z_labels, z_ms = _score(registry.load_version(challenger), texts)
        except (MLError, StoreError) as exc:
            raise fail(str(exc)) from None
        result = offline_paired(
            [r.label for r in rows],
            a_labels,
            z_labels,
            design,
            champion_ms=a_ms,
            challenger_ms=z_ms,
        )
        report = replay_report(result, design, base, challenger)
        report["since"] = start.isoformat() if start else None
        report["until"] = (end or datetime.now(UTC)).isoformat()
        if fmt == "json":
            typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        else:
            _print(report)

    app.add_typer(abtest, name="abtest")
