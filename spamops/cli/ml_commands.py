"""`spamops data fetch`, `spamops train`, `spamops models ...`, `spamops predict`.

ml is imported inside the commands: it pulls in sklearn (and MLflow when training), which
`spamops --help` and the bus commands should not pay for.
"""

from __future__ import annotations

import asyncio
import gc
import getpass
from typing import TYPE_CHECKING, Annotated

import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

from bus.errors import BusError
from schemas.common import ModelAlias
from schemas.envelope import Envelope
from spamops.cli.context import fail, settings_of
from spamops.runtime import open_bus
from spamops.settings import Settings

if TYPE_CHECKING:
    from ml.search import SearchResult
    from ml.training import TrainingResult

__all__ = ["publish_or_warn", "register"]

NO_RELOAD = "running API replicas will not hot-reload until they are restarted"


async def _publish(settings: Settings, events: list[Envelope]) -> None:
    async with open_bus(settings, "cli") as bus:
        await bus.publish_many(events)


def publish_or_warn(settings: Settings, events: list[Envelope], consequence: str) -> bool:
    """Publish `events`; if the bus is unreachable, say so and what that means."""
    try:
        asyncio.run(_publish(settings, events))
    except (BusError, RedisError, OSError) as exc:
        kinds = ", ".join(sorted({e.type for e in events}))
        typer.secho(
            f"warning: {kinds} not published ({exc}); {consequence}",
            fg=typer.colors.YELLOW,
            err=True,
        )
        return False
    return True


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _training_table(result: TrainingResult) -> Table:
    table = Table(title=f"{result.model.name} v{result.model.version} ({result.model.alias})")
    table.add_column("metric")
    table.add_column("held-out", justify="right")
    table.add_column("5-fold CV (mean ± sd)", justify="right")
    for name, value in result.metrics.model_dump().items():
        if name == "n":
            continue
        mean_sd = result.cv.get(name)
        cv = f"{mean_sd[0]:.4f} ± {mean_sd[1]:.4f}" if mean_sd else "-"
        table.add_row(name, _pct(value), cv)
    return table


def _train_events(settings: Settings, result: TrainingResult) -> list[Envelope]:
    from schemas.events import ModelPromoted, ModelTrained
    from schemas.models import Promotion

    source = settings.source("cli")
    trained = ModelTrained(source=source, payload=result.payload())
    alias = result.model.alias or "challenger"
    reason = "first registered version" if alias == "champion" else "newly trained version"
    moved = ModelPromoted(
        source=source,
        correlation=trained.id,
        payload=Promotion(
            model_name=result.model.name,
            version=result.model.version,
            alias=alias,
            reason=reason,
            actor=_actor(None),
        ),
    )
    return [trained, moved]


def _run_search(settings: Settings) -> SearchResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ml.search import CandidateResult, run_search

    best = [-1.0]
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task("cross-validating candidates", total=None)

        def progress(done: int, total: int, r: CandidateResult) -> None:
            best[0] = max(best[0], r.mcc)
            bar.update(
                task,
                completed=done,
                total=total,
                description=f"{r.spec.name:<28} MCC {r.mcc:.4f} (best {best[0]:.4f})",
            )

        return run_search(settings, progress=progress)


def _search_table(result: SearchResult) -> Table:
    table = Table(
        title=f"search: {len(result.candidates)} candidates, 5-fold CV on the training side"
    )
    for col in ("candidate", "MCC", "± sd", "spam F1", "ham FPR", "seconds"):
        table.add_column(col, justify="left" if col == "candidate" else "right")
    for r in sorted(result.candidates, key=lambda r: -r.mcc):
        s = r.cv.summary()
        mark = " *" if r is result.best else ""
        table.add_row(
            r.spec.name + mark,
            f"{s['mcc'][0]:.4f}",
            f"{s['mcc'][1]:.4f}",
            f"{s['spam_f1'][0]:.4f}",
            f"{s['ham_fpr'][0]:.4f}",
            f"{r.seconds:.1f}",
        )
    return table


def _promote(settings: Settings, version: int, reason: str, actor: str) -> None:
    from ml.errors import MLError
    from ml.registry import ModelRegistry
    from schemas.events import ModelPromoted
    from schemas.models import Promotion

    registry = ModelRegistry(settings)
    try:
        previous = registry.promote(version)
    except MLError as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"{registry.name}: champion -> v{version} (was {f'v{previous}' if previous else 'none'})"
    )
    event = ModelPromoted(
        source=settings.source("cli"),
        payload=Promotion(
            model_name=registry.name,
            version=version,
            alias="champion",
            previous_version=previous,
            reason=reason,
            actor=actor,
        ),
    )
    publish_or_warn(settings, [event], NO_RELOAD)


def _rollback(settings: Settings, reason: str, actor: str) -> None:
    from ml.errors import MLError
    from ml.registry import ModelRegistry
    from schemas.events import ModelRolledBack
    from schemas.models import Rollback

    registry = ModelRegistry(settings)
    try:
        from_version, to_version = registry.rollback()
    except MLError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{registry.name}: champion v{from_version} -> v{to_version}")
    event = ModelRolledBack(
        source=settings.source("cli"),
        payload=Rollback(
            model_name=registry.name,
            from_version=from_version,
            to_version=to_version,
            reason=reason,
            actor=actor,
        ),
    )
    publish_or_warn(settings, [event], NO_RELOAD)


Reason = Annotated[str, typer.Option(help="Why; recorded in the event for the audit log.")]
Actor = Annotated[str | None, typer.Option(help="Who; default cli:<user>.")]


def register(app: typer.Typer) -> None:
    data = typer.Typer(help="The labelled corpus.", no_args_is_help=True)
    models = typer.Typer(help="Registered model versions and their aliases.", no_args_is_help=True)

    @data.command("fetch")
    def fetch_cmd(
        ctx: typer.Context,
        force: Annotated[
            bool, typer.Option(help="Download even if a verified copy exists.")
        ] = False,
    ) -> None:
        """Download the UCI SMS Spam Collection and verify its sha256."""
        from ml.errors import MLError
        from ml.fetch import fetch_dataset

        settings = settings_of(ctx)
        try:
            result = fetch_dataset(settings, force=force)
        except MLError as exc:
            raise fail(str(exc)) from None
        verb = "downloaded" if result.downloaded else "already present"
        typer.echo(f"{result.path}: {verb}, sha256 {result.sha256} verified")

    @app.command("train")
    def train_cmd(
        ctx: typer.Context,
        search: Annotated[
            bool, typer.Option("--search", help="Search the candidate grid.")
        ] = False,
        candidate: Annotated[str | None, typer.Option(help="Candidate name (no search).")] = None,
        publish: Annotated[bool, typer.Option(help="Publish model.trained if a bus runs.")] = True,
    ) -> None:
        """Train (or search), log to MLflow and register a new version of the classifier."""
        import mlflow.sklearn  # noqa: F401  # imported before the freeze below

        from ml.candidates import get_candidate
        from ml.errors import MLError
        from ml.training import train_and_register

        # A one-shot process: move the objects of the libraries imported so far out of the
        # garbage collector's view. Without this, every full collection during training
        # re-scans them, and so does interpreter shutdown (~3 s of a 10 s budget, measured).
        gc.freeze()
        settings = settings_of(ctx)
        console = Console()
        try:
            if search:
                found = _run_search(settings)
                console.print(_search_table(found))
                console.print(f"selected {found.best.spec.name}: {found.reason}")
                result = found.training
            else:
                spec = get_candidate(candidate) if candidate else None
                result = train_and_register(settings, candidate=spec)
        except MLError as exc:
            raise fail(str(exc)) from None
        console.print(_training_table(result))
        typer.echo(
            f"registered {result.model.name} v{result.model.version} as {result.model.alias} "
            f"(run {result.run_id}, {result.candidate}, {result.duration_s:.1f} s)"
        )
        if publish:
            publish_or_warn(settings, _train_events(settings, result), "no consumer will see it")
        gc.freeze()  # nothing left to collect that matters; exit without a full GC pass

    @models.command("list")
    def list_cmd(ctx: typer.Context) -> None:
        """Every registered version with its aliases and held-out metrics."""
        from ml.errors import MLError
        from ml.registry import ModelRegistry

        registry = ModelRegistry(settings_of(ctx))
        try:
            rows = registry.versions()
        except MLError as exc:
            raise fail(str(exc)) from None
        table = Table(title=registry.name)
        for col in (
            "version",
            "aliases",
            "candidate",
            "accuracy",
            "spam F1",
            "MCC",
            "ham FPR",
            "created",
            "run",
        ):
            table.add_column(col)
        for v in rows:
            m = v.metrics
            table.add_row(
                str(v.version),
                ", ".join(v.aliases) or "-",
                v.candidate or "-",
                _pct(m.get("accuracy")),
                _pct(m.get("spam_f1")),
                _pct(m.get("mcc")),
                _pct(m.get("ham_fpr")),
                f"{v.created_at:%Y-%m-%d %H:%M}" if v.created_at else "-",
                v.run_id[:12],
            )
        Console().print(table)

    @models.command("promote")
    def promote_cmd(
        ctx: typer.Context,
        version: Annotated[int, typer.Argument(help="Version to make champion.")],
        reason: Reason = "manual promotion",
        actor: Actor = None,
    ) -> None:
        """Point `champion` at VERSION, then publish model.promoted."""
        _promote(settings_of(ctx), version, reason, _actor(actor))

    @models.command("rollback")
    def rollback_cmd(
        ctx: typer.Context, reason: Reason = "manual rollback", actor: Actor = None
    ) -> None:
        """Point `champion` back at the previous champion, then publish model.rolled_back."""
        _rollback(settings_of(ctx), reason, _actor(actor))

    @app.command("predict")
    def predict_cmd(
        ctx: typer.Context,
        text: Annotated[str, typer.Argument(help="The message to classify.")],
        alias: Annotated[str, typer.Option(help="champion or challenger.")] = "champion",
    ) -> None:
        """Classify one message with the model behind ALIAS."""
        from ml.errors import MLError
        from ml.registry import ModelRegistry

        if alias not in ("champion", "challenger"):
            raise typer.BadParameter("alias must be champion or challenger")
        chosen: ModelAlias = "champion" if alias == "champion" else "challenger"
        try:
            model = ModelRegistry(settings_of(ctx)).load(chosen)
        except MLError as exc:
            raise fail(str(exc)) from None
        label, p = model.predict(text)
        note = "  [degraded: MLflow unreachable, served from cache]" if model.degraded else ""
        typer.echo(
            f"{label}  p(spam)={p:.4f}  {model.ref.name} v{model.ref.version} ({alias}){note}"
        )

    app.add_typer(data, name="data")
    app.add_typer(models, name="models")
