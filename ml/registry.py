"""The MLflow model registry of `spam-classifier`: versions, aliases, promotion, rollback.

Aliases, not stages (deprecated): `champion` serves, `challenger` is the candidate. The
first version registered becomes champion, later ones challenger until promoted. Every
champion move is appended to the registered-model tag `champion_history`, so rollback
means "the champion before this one", even after several promotions. Loading resolves the
alias in the registry, then reads the version from the local cache (downloading it once);
if MLflow is unreachable, the last known alias mapping and the cache still serve, and the
`LoadedModel` says `degraded=True`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ml.errors import (
    ModelNotFoundError,
    NoPreviousChampionError,
    RegistryError,
    RegistryUnavailableError,
)
from ml.mlflow_store import mlflow_client, unavailable
from ml.model_cache import ModelCache, VersionMeta
from ml.serving import LoadedModel
from ml.tracking import PROFILE_PATH, SCORER_PATH, SERVING_DIR, LoggedRun
from schemas.common import ClassificationMetrics, ModelAlias
from spamops.settings import Settings

__all__ = ["HISTORY_TAG", "ModelRegistry", "VersionInfo"]

HISTORY_TAG = "champion_history"
_HISTORY_KEEP = 100
_METRIC_TAGS = (
    "accuracy",
    "spam_precision",
    "spam_recall",
    "spam_f1",
    "ham_fpr",
    "mcc",
    "roc_auc",
    "pr_auc",
    "n",
)


class VersionInfo(BaseModel):
    """One row of `spamops models list`."""

    model_config = ConfigDict(frozen=True)

    version: int
    aliases: tuple[str, ...]
    run_id: str
    created_at: datetime | None
    candidate: str | None
    metrics: dict[str, float]


def _not_found(exc: Exception) -> bool:
    return (
        "RESOURCE_DOES_NOT_EXIST" in str(getattr(exc, "error_code", ""))
        or "not found" in str(exc).lower()
    )


@contextlib.contextmanager
def _no_progress_bar() -> Iterator[None]:
    """MLflow draws a tqdm bar for every download, into API logs and CLI output alike.

    Its switch is an environment variable read at call time, so it is set for the duration
    of the download and restored afterwards.
    """
    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    before = os.environ.get(key)
    os.environ[key] = "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def _alias(alias: str) -> ModelAlias:
    if alias == "champion":
        return "champion"
    if alias == "challenger":
        return "challenger"
    raise RegistryError(f"unknown alias {alias!r}: use 'champion' or 'challenger'")


class ModelRegistry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.model.registered_name
        self.cache = ModelCache(settings.model_cache_dir, self.name)
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The MLflow client, created (and a remote server probed) on first use."""
        if self._client is None:
            self._client = mlflow_client(self.settings)
        return self._client

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with unavailable(self.settings.resolved_mlflow_uri):
            return getattr(self.client, method)(*args, **kwargs)

    # -- reading ---------------------------------------------------------------------------

    def _version(self, version: int) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return self._call("get_model_version", self.name, str(version))
        except MlflowException as exc:
            if _not_found(exc):
                raise ModelNotFoundError(
                    f"{self.name} has no version {version}; see `spamops models list`"
                ) from None
            raise

    def alias_version(self, alias: ModelAlias) -> int | None:
        from mlflow.exceptions import MlflowException

        try:
            mv = self._call("get_model_version_by_alias", self.name, alias)
        except MlflowException as exc:
            if _not_found(exc):
                return None
            raise
        return int(mv.version)

    def champion_version(self) -> int | None:
        return self.alias_version("champion")

    def challenger_version(self) -> int | None:
        return self.alias_version("challenger")

    def versions(self) -> list[VersionInfo]:
        rows = self._call("search_model_versions", f"name='{self.name}'")
        aliases: dict[int, list[str]] = {}
        if rows:  # search results carry no aliases; the registered model has them all
            model = self._call("get_registered_model", self.name)
            for alias, version in (model.aliases or {}).items():
                aliases.setdefault(int(version), []).append(alias)
        out = []
        for mv in rows:
            tags = dict(mv.tags or {})
            metrics = {k: float(tags[k]) for k in _METRIC_TAGS if k in tags}
            out.append(
                VersionInfo(
                    version=int(mv.version),
                    aliases=tuple(sorted(aliases.get(int(mv.version), []))),
                    run_id=str(mv.run_id or ""),
                    created_at=ModelCache.created(mv.creation_timestamp),
                    candidate=tags.get("candidate"),
                    metrics=metrics,
                )
            )
        return sorted(out, key=lambda v: v.version)

    def champion_history(self) -> list[int]:
        from mlflow.exceptions import MlflowException

        try:
            model = self._call("get_registered_model", self.name)
        except MlflowException as exc:
            if _not_found(exc):
                return []
            raise
        raw = (model.tags or {}).get(HISTORY_TAG, "[]")
        try:
            return [int(v) for v in json.loads(raw)]
        except (ValueError, TypeError):
            return []

    # -- loading ---------------------------------------------------------------------------

    def load(self, alias: str = "champion") -> LoadedModel:
        """The version behind `alias`, from the local cache when possible (≤ 2 s cold)."""
        alias = _alias(alias)
        try:
            version = self.alias_version(alias)
        except RegistryUnavailableError as exc:
            return self._load_offline(alias, exc)
        if version is None:
            raise ModelNotFoundError(
                f"{self.name} has no {alias!r} alias yet; train one with `spamops train`"
            )
        self.cache.remember_alias(alias, version)
        return self._load(version, alias)

    def load_version(self, version: int) -> LoadedModel:
        if self.cache.has(version):
            return LoadedModel.from_cached(self.cache.load(version), None)
        return self._load(version, None)

    def _load(self, version: int, alias: ModelAlias | None) -> LoadedModel:
        if not self.cache.has(version):
            self._download(self._version(version))
        return LoadedModel.from_cached(self.cache.load(version), alias)

    def _load_offline(self, alias: ModelAlias, cause: RegistryUnavailableError) -> LoadedModel:
        version = self.cache.aliases().get(alias)
        if version is None or not self.cache.has(version):
            raise RegistryUnavailableError(
                f"{cause}; and no cached {alias!r} model under {self.cache.root} to fall back to"
            ) from None
        return LoadedModel.from_cached(self.cache.load(version), alias, degraded=True)

    def _download(self, mv: Any) -> None:
        import mlflow.artifacts

        tags = dict(mv.tags or {})
        if "scorer_sha256" not in tags:
            raise RegistryError(
                f"{self.name} v{mv.version} was not registered by spamops (no scorer_sha256 "
                "tag); register models with `spamops train`"
            )
        uri = self.settings.resolved_mlflow_uri
        with (
            tempfile.TemporaryDirectory(prefix="spamops-dl-") as tmp,
            unavailable(uri),
            _no_progress_bar(),
        ):
            local = mlflow.artifacts.download_artifacts(
                run_id=mv.run_id, artifact_path=SERVING_DIR, dst_path=tmp, tracking_uri=uri
            )
            scorer_json = (Path(local) / Path(SCORER_PATH).name).read_bytes()
            profile_json = (Path(local) / Path(PROFILE_PATH).name).read_bytes()
        metrics = {k: float(tags[k]) for k in _METRIC_TAGS if k in tags}
        meta = VersionMeta(
            name=self.name,
            version=int(mv.version),
            run_id=str(mv.run_id),
            threshold=float(tags.get("threshold", self.settings.model.threshold)),
            scorer_sha256=tags["scorer_sha256"],
            metrics=ClassificationMetrics.model_validate(metrics)
            if len(metrics) == len(_METRIC_TAGS)
            else None,
            created_at=ModelCache.created(mv.creation_timestamp),
        )
        self.cache.store(meta, scorer_json, profile_json)

    # -- writing ---------------------------------------------------------------------------

    def register(
        self, logged: LoggedRun, metrics: ClassificationMetrics, *, candidate: str, threshold: float
    ) -> tuple[int, ModelAlias]:
        """Register a logged run's model; champion if there is none yet, else challenger."""
        import mlflow

        tags = {k: str(v) for k, v in metrics.model_dump().items() if v is not None}
        tags |= {
            "scorer_sha256": logged.scorer_sha256,
            "candidate": candidate,
            "threshold": str(threshold),
        }
        with unavailable(self.settings.resolved_mlflow_uri):
            mv = mlflow.register_model(logged.model_uri, self.name, tags=tags)
        version = int(mv.version)
        if self.champion_version() is None:
            self._move_champion(version, self.champion_history())
            return version, "champion"
        self.set_challenger(version)
        return version, "challenger"

    def set_challenger(self, version: int) -> None:
        self._version(version)
        self._call("set_registered_model_alias", self.name, "challenger", str(version))
        self.cache.remember_alias("challenger", version)

    def _move_champion(self, version: int, history: list[int]) -> None:
        self._call("set_registered_model_alias", self.name, "champion", str(version))
        self._call(
            "set_registered_model_tag", self.name, HISTORY_TAG, json.dumps(history[-_HISTORY_KEEP:])
        )
        self.cache.remember_alias("champion", version)

    def promote(self, version: int) -> int | None:
        """Make `version` the champion; returns the previous champion (None if none)."""
        self._version(version)
        previous = self.champion_version()
        history = self.champion_history()
        if previous is not None and (not history or history[-1] != previous):
            history.append(previous)  # the alias was moved outside spamops: keep it reachable
        if previous != version:
            history.append(version)
            self._move_champion(version, history)
        if self.challenger_version() == version:
            self._call("delete_registered_model_alias", self.name, "challenger")
        return previous

    def rollback(self) -> tuple[int, int]:
        """Move champion back to the version before it; returns (from_version, to_version)."""
        current = self.champion_version()
        if current is None:
            raise NoPreviousChampionError(f"{self.name} has no champion to roll back")
        history = self.champion_history()
        if not history or history[-1] != current:
            history.append(current)
        history.pop()
        existing = {v.version for v in self.versions()}
        while history and (history[-1] not in existing or history[-1] == current):
            history.pop()
        if not history:
            raise NoPreviousChampionError(
                f"{self.name} v{current} has no earlier champion to roll back to; "
                "promote a specific version with `spamops models promote VERSION`"
            )
        target = history[-1]
        self._move_champion(target, history)
        return current, target
