"""The processes of the whole system on one machine, as `ProcessSpec`s.

| process | runs | stops |
|---|---|---|
| redis | the embedded `redis-server` (AOF everysec), when `SPAMOPS_REDIS_URL` is unset | last |
| consumers-* | every consumer of `consumers.runner`, grouped below | after traffic |
| api, scheduler | `python -m spamops.asgi`, `spamops scheduler` | first |
| dashboard, mlflow-ui, demo | clients of the above | first |

Consumers are grouped by what they need, not one process each (eleven Python processes
would cost ~2 GB and a minute of imports): the two SQL writers share one (one SQLite
writer at a time anyway); the statistics consumers share numpy and scikit-learn; the agent
runs alone because exactly one may run and it must not wait behind anything; the retrainer
runs alone because training holds a core (and the GIL) for seconds; the alert raiser and
the channels share one, so a misconfigured channel that stops its process at start takes
nothing else with it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from spamops.launcher.health import heartbeat_check, http_check, redis_check
from spamops.launcher.specs import ProcessSpec
from spamops.settings import Settings

__all__ = [
    "CONSUMER_PROCESSES",
    "DEMO_SETTINGS",
    "Ports",
    "consumer_specs",
    "dashboard_spec",
    "demo_spec",
    "mlflow_ui_spec",
    "redis_spec",
    "service_specs",
]

CONSUMER_PROCESSES: dict[str, tuple[str, ...]] = {
    "consumers-store": ("projector", "audit"),
    "consumers-monitor": ("drift", "performance", "abtest"),
    "consumers-agent": ("agent",),
    "consumers-retrainer": ("retrainer",),
    "consumers-alerts": ("alert-raiser", "alerter-slack", "alerter-email", "alerter-webhook"),
}

DEMO_SETTINGS: dict[str, str] = {
    # Windows of 200 predictions instead of 500, closed after a minute at the latest, so the
    # first drift verdict comes ~3 s into the campaign at the demo's traffic rate.
    "SPAMOPS_MONITORING__DRIFT_WINDOW": "200",
    "SPAMOPS_MONITORING__DRIFT_MIN_WINDOW": "100",
    "SPAMOPS_MONITORING__PERFORMANCE_WINDOW": "100",
    "SPAMOPS_MONITORING__WINDOW_MAX_AGE_S": "60",
    "SPAMOPS_MONITORING__TICK_INTERVAL_S": "1",
    # Retrain again 20 s after a kept challenger (1 h by default): the first retraining
    # sees few labelled campaign messages; the second has enough to win.
    "SPAMOPS_RETRAIN__COOLDOWN_S": "20",
    # Retraining without the four MLflow plots (~2 s each time).
    "SPAMOPS_MODEL__PLOTS": "false",
    "SPAMOPS_API__MODEL_RELOAD_BACKOFF_S": "0.5",
}
"""What `spamops up --simulate` changes (only where the environment does not set it)."""


@dataclass(frozen=True)
class Ports:
    api: int
    dashboard: int
    mlflow: int
    host: str = "127.0.0.1"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api}"

    @property
    def dashboard_url(self) -> str:
        return f"http://{self.host}:{self.dashboard}"

    @property
    def mlflow_url(self) -> str:
        return f"http://{self.host}:{self.mlflow}"


def _spamops(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "spamops", *args)


def redis_spec(
    settings: Settings,
    port: int,
    env: Mapping[str, str],
    on_start: Callable[[int], None] | None = None,
) -> ProcessSpec:
    """redis-server in the foreground, logging to stdout (the combined log), AOF everysec
    under `<data_dir>/redis` as in production."""
    from bus.embedded import redis_binary

    directory = settings.data_dir / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    argv = (
        redis_binary(),
        *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)),
        *("--appendonly", "yes", "--appendfsync", "everysec", "--save", ""),
        *("--daemonize", "no", "--logfile", ""),
    )
    url = f"redis://127.0.0.1:{port}/0"
    return ProcessSpec(
        "redis",
        argv,
        env,
        ready=redis_check(url),
        tier=0,
        on_start=on_start,
    )


def consumer_specs(settings: Settings, redis_url: str, env: Mapping[str, str]) -> list[ProcessSpec]:
    specs = []
    for name, consumers in CONSUMER_PROCESSES.items():
        member = f"{settings.instance}-{name}"
        specs.append(
            ProcessSpec(
                name,
                _spamops("consume", *consumers, "--member", member),
                env,
                ready=heartbeat_check(redis_url, settings.stream_prefix, member, len(consumers)),
                tier=1,
            )
        )
    return specs


def service_specs(ports: Ports, env: Mapping[str, str]) -> list[ProcessSpec]:
    """The API and the scheduler: what puts events on the bus."""
    api = (sys.executable, "-m", "spamops.asgi", "--host", ports.host, "--port", str(ports.api))
    return [
        ProcessSpec("api", api, env, ready=http_check(f"{ports.api_url}/health"), tier=2),
        ProcessSpec("scheduler", _spamops("scheduler"), env, tier=2),
    ]


def dashboard_spec(ports: Ports, env: Mapping[str, str], token: str | None) -> ProcessSpec:
    dashboard_env = dict(env)
    if token:
        dashboard_env["SPAMOPS_DASHBOARD__TOKEN"] = token
    argv = _spamops(
        "dashboard",
        "--host",
        ports.host,
        "--port",
        str(ports.dashboard),
        "--api-url",
        ports.api_url,
    )
    ready = http_check(f"{ports.dashboard_url}/_stcore/health")
    return ProcessSpec("dashboard", argv, dashboard_env, ready=ready, tier=3)


def mlflow_ui_spec(settings: Settings, ports: Ports, env: Mapping[str, str]) -> ProcessSpec:
    """The MLflow UI over the tracking store the system writes (one worker is plenty)."""
    from ml.mlflow_store import artifact_location

    artifacts = artifact_location(settings) or (settings.data_dir / "mlartifacts").as_uri()
    argv = (
        sys.executable,
        *("-m", "mlflow", "server", "--backend-store-uri", settings.resolved_mlflow_uri),
        *("--default-artifact-root", artifacts, "--host", ports.host, "--port", str(ports.mlflow)),
        *("--workers", "1"),
    )
    ready = http_check(f"{ports.mlflow_url}/health")
    return ProcessSpec("mlflow-ui", argv, env, ready=ready, tier=3, cwd=settings.data_dir)


def demo_spec(ports: Ports, env: Mapping[str, str], token: str, dataset: Path) -> ProcessSpec:
    demo_env = dict(env) | {"SPAMOPS_TOKEN": token}
    argv = (
        sys.executable,
        *("-m", "spamops.launcher.demo", "--url", ports.api_url, "--dataset", str(dataset)),
    )
    return ProcessSpec("demo", argv, demo_env, restart="never", tier=4)
