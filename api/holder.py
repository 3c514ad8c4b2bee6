"""The model a replica serves, swapped atomically on hot reload.

Requests read `holder.current` once and use that object to the end, so a swap never hands
a request a half-loaded model: the new model is fully built before the reference moves,
and the old one stays alive for requests already holding it.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from typing import Literal

from ml.protocols import ServingModel

__all__ = ["ModelHolder", "Serving"]

log = logging.getLogger(__name__)

Source = Literal["registry", "cache"]


@dataclass(frozen=True, slots=True)
class Serving:
    model: ServingModel
    source: Source
    """"cache" when the registry was unreachable and the last good copy on disk was used."""


class ModelHolder:
    def __init__(self) -> None:
        self._serving: Serving | None = None
        self.swaps = 0

    @property
    def current(self) -> Serving | None:
        return self._serving

    @property
    def version(self) -> int | None:
        return self._serving.model.ref.version if self._serving else None

    def confirm(self, version: int) -> bool:
        """The registry agrees that `version` is the champion: it is no longer degraded."""
        serving = self._serving
        if serving is None or serving.model.ref.version != version:
            return False
        if serving.source != "registry":
            self._serving = Serving(serving.model, "registry")
            log.info("registry confirmed v%s", version)
        return True

    def swap(self, model: ServingModel, source: Source = "registry") -> None:
        previous = self.version
        self._serving = Serving(model, source)  # one reference assignment: atomic
        self.swaps += 1
        # The scorer is ~10^5 long-lived objects; keep them out of the collector's way, or a
        # full collection walks them all and shows up as multi-millisecond p99 spikes.
        gc.collect()
        gc.freeze()
        log.info(
            "serving %s v%s (was v%s, from %s)", model.ref.name, model.ref.version, previous, source
        )
