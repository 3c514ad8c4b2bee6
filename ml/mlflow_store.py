"""Reaching the MLflow tracking store and registry configured in `Settings`.

MLflow's client retries an unreachable server for minutes; the API must instead report
"degraded" and serve its cached model within a second or two. So remote stores are probed
first (`GET /health`, `registry_timeout_s`), and every failure to reach the store becomes
`RegistryUnavailableError`. Local stores (SQLite, file) are created on first use, with
artifacts under `<data_dir>/mlartifacts` rather than MLflow's default `./mlruns` in
whatever directory the process happened to start in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from ml.errors import RegistryUnavailableError
from spamops.settings import Settings

__all__ = [
    "artifact_location",
    "ensure_experiment",
    "is_remote",
    "mlflow_client",
    "open_store",
    "probe",
    "unavailable",
    "use_store",
]


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def artifact_location(settings: Settings) -> str | None:
    """Artifact root for new experiments; None lets a remote server decide."""
    if settings.model.artifact_root:
        return settings.model.artifact_root
    if is_remote(settings.resolved_mlflow_uri):
        return None
    return (settings.data_dir / "mlartifacts").resolve().as_uri()


def probe(settings: Settings) -> None:
    """Fail fast with `RegistryUnavailableError` if a remote MLflow server does not answer."""
    uri = settings.resolved_mlflow_uri
    if not is_remote(uri):
        return
    try:
        response = httpx.get(uri.rstrip("/") + "/health", timeout=settings.model.registry_timeout_s)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise RegistryUnavailableError(
            f"MLflow at {uri} does not answer ({type(exc).__name__}: {exc}); check that the "
            "server runs and SPAMOPS_MLFLOW_TRACKING_URI points at it"
        ) from None


def _prepare_local(settings: Settings) -> None:
    uri = settings.resolved_mlflow_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def mlflow_client(settings: Settings) -> Any:
    """An `MlflowClient` on the configured store (probed first if remote)."""
    probe(settings)
    _prepare_local(settings)
    from mlflow import MlflowClient

    uri = settings.resolved_mlflow_uri
    with unavailable(uri):
        return MlflowClient(tracking_uri=uri, registry_uri=uri)


def use_store(settings: Settings) -> Any:
    """Point MLflow's process-wide (fluent) API at the configured store; return a client.

    `mlflow.sklearn.log_model` only works through the fluent API, which reads a global URI.
    It is set on every call, so one process can train against different stores in turn.
    """
    import mlflow

    client = mlflow_client(settings)
    mlflow.set_tracking_uri(settings.resolved_mlflow_uri)
    mlflow.set_registry_uri(settings.resolved_mlflow_uri)
    return client


def open_store(settings: Settings) -> tuple[Any, str]:
    """Client and experiment id, with everything logging a model needs already imported.

    MLflow's imports (its SQL store, alembic, the sklearn flavour) and matplotlib cost
    ~2 s; training runs this in a background thread while it fits, so that the wait
    overlaps the fit instead of adding to it.
    """
    client = use_store(settings)
    experiment_id = ensure_experiment(client, settings)
    import mlflow.models
    import mlflow.sklearn  # noqa: F401

    return client, experiment_id


def ensure_experiment(client: Any, settings: Settings) -> str:
    """Id of the configured experiment, created (with our artifact root) if missing."""
    name = settings.model.experiment
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(client.create_experiment(name, artifact_location=artifact_location(settings)))


@contextlib.contextmanager
def unavailable(uri: str) -> Iterator[None]:
    """Turn "cannot reach the store" failures into `RegistryUnavailableError`."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except (httpx.HTTPError, ConnectionError, OSError) as exc:
        raise RegistryUnavailableError(f"MLflow store {uri} is unreachable: {exc}") from None
    except MlflowException as exc:
        text = str(exc)
        if any(s in text for s in ("ConnectionError", "Max retries", "unable to open database")):
            raise RegistryUnavailableError(
                f"MLflow store {uri} is unreachable: {text[:300]}"
            ) from None
        raise
