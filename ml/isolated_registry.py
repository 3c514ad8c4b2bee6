"""The registry as the API sees it: models from the local cache, MLflow kept out of process.

Loading reads the on-disk cache (JSON: no code runs, ~50 ms). What only MLflow knows —
which version an alias points to, a version not yet downloaded — is asked of a short-lived
child process (`python -m ml.sync`), which downloads into the same cache. So an API worker
never imports MLflow for serving, starts in about two seconds with a cached champion, and
keeps answering when MLflow hangs. Operator actions (list, promote, rollback) are rare and
use the real registry, imported on first use.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import orjson

from ml.errors import ModelNotFoundError, RegistryUnavailableError
from ml.model_cache import ModelCache
from ml.serving import LoadedModel
from ml.sync import sync_settings
from spamops.settings import Settings

__all__ = ["IsolatedRegistry"]


class IsolatedRegistry:
    def __init__(self, settings: Settings, *, timeout_s: float = 120.0) -> None:
        self.settings = settings
        self.cache = ModelCache(settings.model_cache_dir, settings.model.registered_name)
        self.timeout_s = timeout_s
        self._registry: Any = None

    def _sync(self, *target: str) -> dict[str, Any]:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "ml.sync", *target],
                input=sync_settings(self.settings),
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RegistryUnavailableError(
                f"fetching {' '.join(target)} from MLflow took over {self.timeout_s:.0f} s"
            ) from None
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            text = message[-1] if message else f"exit code {done.returncode}"
            if "has no" in text:
                raise ModelNotFoundError(text)
            raise RegistryUnavailableError(text)
        result: dict[str, Any] = orjson.loads(done.stdout)
        return result

    def load(self, alias: str = "champion") -> LoadedModel:
        """The cached version of `alias` at once (marked degraded until `confirm`ed), else a
        fetch through the child process."""
        version = self.cache.aliases().get(alias)
        if version is not None and self.cache.has(version):
            return LoadedModel.from_cached(self.cache.load(version), alias, degraded=True)  # type: ignore[arg-type]
        synced = self._sync("--alias", alias)
        return LoadedModel.from_cached(
            self.cache.load(int(synced["version"])),
            alias,  # type: ignore[arg-type]
            degraded=bool(synced["degraded"]),
        )

    def champion_version(self) -> int | None:
        """Ask MLflow (through the child) which version `champion` is; fetches it too."""
        try:
            return int(self._sync("--alias", "champion")["version"])
        except ModelNotFoundError:
            return None

    def load_version(self, version: int) -> LoadedModel:
        if not self.cache.has(version):
            self._sync("--version", str(version))
        return LoadedModel.from_cached(self.cache.load(version), None)

    # Operator actions: the real registry, imported (with MLflow) on first use.

    def _real(self) -> Any:
        if self._registry is None:
            from ml.registry import ModelRegistry

            self._registry = ModelRegistry(self.settings)
        return self._registry

    def versions(self) -> Sequence[Any]:
        return list(reversed(self._real().versions()))

    def promote(self, version: int) -> int | None:
        previous: int | None = self._real().promote(version)
        return previous

    def rollback(self) -> tuple[int, int]:
        moved: tuple[int, int] = self._real().rollback()
        return moved
