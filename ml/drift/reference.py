"""The reference side of every drift statistic, prepared once.

Built from the whole profile for a model version (`Reference.from_profile`), or from a
subset of its messages for one calibration pool (`Reference.from_rows`). Preparing it costs
tens of milliseconds; measuring a window against it then costs a few.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ml.drift.domain import DomainSample, content_keys
from ml.drift.window import SHAPE_FIELDS, FloatArray, IntArray
from ml.errors import MLError
from ml.profile import ReferenceProfile

__all__ = [
    "SCORE_BINS",
    "DriftError",
    "ProfileNotCalibratableError",
    "ProfileRows",
    "Reference",
    "score_histogram",
]

SCORE_BINS: FloatArray = np.array(
    [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0]
)
"""Spam-probability bins for PSI: scores pile up near 0 and 1, so the bins are finer there."""


class DriftError(MLError):
    """Drift could not be measured."""


class ProfileNotCalibratableError(DriftError):
    """The profile lacks the per-message data drift calibration needs.

    Cause: the model version was trained before reference profiles carried per-message
    tokens and out-of-fold scores (profile version 1). Fix: retrain (`spamops train`) and
    promote the new version; its profile can be calibrated.
    """


def score_histogram(scores: FloatArray) -> FloatArray:
    counts = np.histogram(np.clip(scores, 0.0, 1.0), SCORE_BINS)[0].astype(np.float64)
    return counts / max(len(scores), 1)


@dataclass(frozen=True)
class ProfileRows:
    """Per-message arrays of a calibratable profile, for resampling clean windows."""

    tokens: tuple[IntArray, ...]
    shapes: FloatArray
    scores: FloatArray
    """Out-of-fold spam probability: the score of a message its scorer had not seen."""
    keys: IntArray
    """Content key per message: identical messages share one (they stay in one pool)."""

    @classmethod
    def from_profile(cls, profile: ReferenceProfile) -> ProfileRows:
        if not profile.calibratable:
            raise ProfileNotCalibratableError(
                f"the reference profile (version {profile.version}, {profile.messages} "
                "messages) has no per-message tokens and out-of-fold scores; retrain the "
                "model with this spamops version so that its drift can be calibrated"
            )
        tokens = tuple(np.asarray(t, dtype=np.int64) for t in profile.message_tokens)
        return cls(
            tokens=tokens,
            shapes=_shape_matrix(profile),
            scores=np.asarray(profile.message_scores, dtype=np.float64),
            keys=content_keys(tokens),
        )


def _shape_matrix(profile: ReferenceProfile) -> FloatArray:
    shapes = profile.shapes
    return np.column_stack([np.asarray(getattr(shapes, f), dtype=np.float64) for f in SHAPE_FIELDS])


def _doc_freq(tokens: tuple[IntArray, ...]) -> tuple[IntArray, FloatArray]:
    if not tokens:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    ids, counts = np.unique(np.concatenate([np.unique(t) for t in tokens]), return_counts=True)
    return ids, counts / len(tokens)


@dataclass(frozen=True)
class Reference:
    token_ids: IntArray
    """Sorted hashed token ids seen in the reference."""
    token_share: FloatArray
    """Share of reference token occurrences of each id (sums to 1)."""
    shapes: tuple[FloatArray, ...]
    """Sorted reference values of each `SHAPE_FIELDS` column."""
    score_hist: FloatArray
    """Held-out spam-probability histogram over `SCORE_BINS`."""
    spam_rate: float
    """Share of held-out messages the model labels spam."""
    sample: DomainSample
    """Reference messages for the domain classifier."""
    names: Mapping[int, str]
    """A readable token for each id (from the profile's vocabulary)."""
    doc_ids: IntArray
    doc_share: FloatArray
    """Share of reference messages containing each of `doc_ids` (sorted)."""

    @property
    def messages(self) -> int:
        return len(self.shapes[0]) if self.shapes else 0

    def doc_share_of(self, ids: IntArray) -> FloatArray:
        if not len(self.doc_ids):
            return np.zeros(len(ids))
        pos = np.minimum(np.searchsorted(self.doc_ids, ids), len(self.doc_ids) - 1)
        found = self.doc_ids[pos] == ids
        return np.where(found, self.doc_share[pos], 0.0)

    @classmethod
    def from_profile(
        cls, profile: ReferenceProfile, *, sample_size: int, seed: int = 0
    ) -> Reference:
        """The whole profile of a model version (what live windows are measured against)."""
        rows = ProfileRows.from_profile(profile)
        counts = profile.token_counts
        ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        occurrences = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        order = np.argsort(ids)
        rng = np.random.default_rng(seed)
        chosen = rng.choice(len(rows.tokens), min(sample_size, len(rows.tokens)), replace=False)
        doc_ids, doc_share = _doc_freq(rows.tokens)
        return cls(
            token_ids=ids[order],
            token_share=occurrences[order] / max(occurrences.sum(), 1.0),
            shapes=tuple(np.sort(rows.shapes[:, j]) for j in range(len(SHAPE_FIELDS))),
            score_hist=score_histogram(np.asarray(profile.scores, dtype=np.float64)),
            spam_rate=profile.predicted_spam_rate,
            sample=DomainSample.build([rows.tokens[i] for i in np.sort(chosen)]),
            names=profile.vocabulary,
            doc_ids=doc_ids,
            doc_share=doc_share,
        )

    @classmethod
    def from_rows(
        cls,
        rows: ProfileRows,
        subset: IntArray,
        *,
        score_hist: FloatArray,
        spam_rate: float,
        sample_size: int,
        rng: np.random.Generator,
    ) -> Reference:
        """The profile restricted to `subset` (a calibration pool's complement)."""
        tokens = [rows.tokens[i] for i in subset]
        ids, occurrences = np.unique(np.concatenate(tokens), return_counts=True)
        chosen = rng.choice(len(subset), min(sample_size, len(subset)), replace=False)
        return cls(
            token_ids=ids.astype(np.int64),
            token_share=occurrences / occurrences.sum(),
            shapes=tuple(np.sort(rows.shapes[subset, j]) for j in range(len(SHAPE_FIELDS))),
            score_hist=score_hist,
            spam_rate=spam_rate,
            sample=DomainSample.build([tokens[i] for i in np.sort(chosen)]),
            names={},
            doc_ids=np.zeros(0, dtype=np.int64),
            doc_share=np.zeros(0),
        )
