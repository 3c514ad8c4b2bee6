"""What serving and decision code needs from the model package, as protocols.

`ml.serving.LoadedModel` and `ml.registry.ModelRegistry` satisfy them; unit tests may pass
simpler objects. Keeping the API and the agent on these few methods keeps MLflow out of
the request path and out of their unit tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from schemas.common import Label, ModelRef

if TYPE_CHECKING:
    from ml.serving import Analysis

__all__ = ["ModelSource", "ServingModel"]


class ServingModel(Protocol):
    @property
    def ref(self) -> ModelRef: ...

    def score(self, text: str) -> float:
        """Spam probability of one message (the fast path)."""
        ...

    def score_batch(self, texts: Sequence[str]) -> Sequence[float] | npt.NDArray[np.float64]:
        """Spam probabilities of many messages (`LoadedModel` returns a numpy array)."""
        ...

    def label(self, probability: float) -> Label: ...

    def analyse(self, text: str) -> Analysis:
        """P(spam), hashed tokens and shape of one message, from one tokenization."""
        ...


class ModelSource(Protocol):
    """The registry: load by alias or version, list versions, move aliases."""

    def load(self, alias: str = "champion") -> ServingModel: ...

    def load_version(self, version: int) -> ServingModel: ...

    def versions(self) -> Sequence[Any]: ...

    def champion_version(self) -> int | None: ...

    def promote(self, version: int) -> int | None:
        """Move `champion` to `version`; returns the previous champion version."""
        ...

    def rollback(self) -> tuple[int, int]:
        """Move `champion` back to the previous champion; returns (from, to)."""
        ...
