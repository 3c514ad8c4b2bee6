"""`spamops simulate`: drive labelled traffic (and optionally drift) through the API."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from producers.scenarios import SCENARIOS
from producers.simulate import SimulationPlan, base_pool, simulate
from spamops.cli.context import fail, settings_of

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate_cmd(
        ctx: typer.Context,
        url: Annotated[str, typer.Option(help="The API's base URL.")] = "http://127.0.0.1:8000",
        messages: Annotated[int, typer.Option(min=1)] = 1000,
        rate: Annotated[float, typer.Option(min=0.1, help="Requests per second.")] = 50.0,
        scenario: Annotated[
            str | None, typer.Option(help=f"Drift to inject: {', '.join(SCENARIOS)}.")
        ] = None,
        onset: Annotated[int, typer.Option(min=0, help="Window where drift starts.")] = 2,
        window: Annotated[int, typer.Option(min=1, help="Messages per window.")] = 100,
        feedback: Annotated[float, typer.Option(min=0, max=1, help="Share labelled.")] = 0.3,
        feedback_delay: Annotated[float, typer.Option(min=0)] = 2.0,
        token: Annotated[str | None, typer.Option(envvar="SPAMOPS_TOKEN")] = None,
        seed: int = 7,
    ) -> None:
        """Replay held-out corpus messages through /predict, with delayed /feedback."""
        settings = settings_of(ctx)
        if scenario is not None and scenario not in SCENARIOS:
            raise fail(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}", 2)
        base = base_pool(settings.dataset_path, settings.model.seed, settings.model.test_size)
        plan = SimulationPlan(
            url=url,
            messages=messages,
            rate_per_s=rate,
            scenario=scenario,
            onset_window=onset,
            window_size=window,
            feedback_share=feedback,
            feedback_delay_s=feedback_delay,
            seed=seed,
            token=token,
        )
        report = asyncio.run(simulate(plan, base))
        typer.echo(
            f"sent {report.sent}, errors {report.errors}, feedback {report.feedback_sent}"
            f" (errors {report.feedback_errors})"
        )
        for version in sorted(report.drifted_spam):
            rate_caught = report.catch_rate(version)
            typer.echo(
                f"v{version}: caught {rate_caught:.1%} of "
                f"{report.drifted_spam[version]} drifted spam"
            )
        if report.errors:
            raise typer.Exit(1)
