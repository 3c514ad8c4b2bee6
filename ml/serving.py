"""`LoadedModel`: what the API holds to answer `/predict`.

Built from a JSON scorer and its reference profile, never from a pickle. `score` is the
single-message fast path (~0.1 ms); `score_batch` loops over it, which is faster than
sklearn's vectorised pipeline for any batch size an SMS gateway sends (bench/model.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ml.features import hash_token, reference_normalizer, shape_of
from ml.model_cache import CachedVersion
from ml.profile import ReferenceProfile
from ml.scorer import FastScorer
from ml.scorer_spec import ScorerSpec
from schemas.common import ClassificationMetrics, Label, ModelAlias, ModelRef
from schemas.traffic import MessageShape

__all__ = ["Analysis", "LoadedModel"]


@dataclass(frozen=True, slots=True)
class Analysis:
    probability: float
    token_hashes: tuple[int, ...]
    shape: MessageShape


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
        self._shares_tokens = scorer.normalizer == reference_normalizer().config()

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

    def analyse(self, text: str) -> Analysis:
        """P(spam) and the event features of one message, tokenizing it once when the
        model's normalisation is the drift features' (the default); twice otherwise."""
        tokens = reference_normalizer().tokens(text)
        shared = tokens if self._shares_tokens else None
        return Analysis(
            probability=self._scorer.score(text, shared),
            token_hashes=tuple(hash_token(t) for t in tokens),
            shape=shape_of(text, len(tokens)),
        )

    def label(self, probability: float) -> Label:
        return "spam" if probability >= self.threshold else "ham"

    def predict(self, text: str) -> tuple[Label, float]:
        p = self.score(text)
        return self.label(p), p

    def __repr__(self) -> str:
        flag = ", degraded" if self.degraded else ""
        return f"LoadedModel({self.ref.name} v{self.ref.version} {self.ref.alias}{flag})"
