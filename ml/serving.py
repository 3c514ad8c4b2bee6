"""`LoadedModel`: what the API holds to answer `/predict`.

Built from a JSON scorer and its reference profile, never from a pickle. `score` is the
single-message fast path (~0.1 ms); `score_batch` loops over it, which is faster than
sklearn's vectorised pipeline for any batch size an SMS gateway sends (bench/model.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ml.model_cache import CachedVersion
from ml.profile import ReferenceProfile
from ml.scorer import FastScorer
from ml.scorer_spec import ScorerSpec
from schemas.common import ClassificationMetrics, Label, ModelAlias, ModelRef

__all__ = ["LoadedModel"]


class LoadedModel:
    """A registered model version ready to score, with the reference profile it came with."""

    def __init__(
        self,
        ref: ModelRef,
        scorer: ScorerSpec,
        profile: ReferenceProfile,
        threshold: float,
        *,
        run_id: str = "",
        metrics: ClassificationMetrics | None = None,
        degraded: bool = False,
    ) -> None:
        self.ref = ref
        self.threshold = threshold
        self.profile = profile
        self.run_id = run_id
        self.metrics = metrics
        self.degraded = degraded
        """True when loaded from the local cache because MLflow was unreachable."""
        self._scorer = FastScorer(scorer)

    @classmethod
    def from_cached(
        cls, cached: CachedVersion, alias: ModelAlias | None, *, degraded: bool = False
    ) -> LoadedModel:
        meta = cached.meta
        return cls(
            ModelRef(name=meta.name, version=meta.version, alias=alias),
            cached.scorer,
            cached.profile,
            meta.threshold,
            run_id=meta.run_id,
            metrics=meta.metrics,
            degraded=degraded,
        )

    @property
    def spec(self) -> ScorerSpec:
        return self._scorer.spec

    def score(self, text: str) -> float:
        """P(spam) of one message."""
        return self._scorer.score(text)

    def score_batch(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        return self._scorer.score_batch(texts)

    def label(self, probability: float) -> Label:
        return "spam" if probability >= self.threshold else "ham"

    def predict(self, text: str) -> tuple[Label, float]:
        p = self.score(text)
        return self.label(p), p

    def __repr__(self) -> str:
        flag = ", degraded" if self.degraded else ""
        return f"LoadedModel({self.ref.name} v{self.ref.version} {self.ref.alias}{flag})"
