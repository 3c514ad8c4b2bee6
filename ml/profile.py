"""The drift reference profile, logged with every model version as a JSON artifact.

Drift is measured against the data the serving model was trained on, so the reference
travels with the model: hashed-token counts (Jensen-Shannon distance, OOV rate), the
per-message shape statistics (PSI / KS), and the spam-probability distribution on the
held-out split (output drift). `thresholds` starts empty; the drift consumer calibrates
it on reference data to a target false-alarm rate and stores it back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ml.features import HASH_BUCKETS, hash_token, reference_normalizer, shape_of
from schemas.envelope import utcnow

__all__ = ["ReferenceProfile", "ShapeSamples", "build_profile"]


class ShapeSamples(BaseModel):
    """One value per reference message for each `MessageShape` statistic (same order)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    length: list[int]
    tokens: list[int]
    digits: list[int]
    urls: list[int]
    uppercase_ratio: list[float]


class ReferenceProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    created_at: AwareDatetime = Field(default_factory=utcnow)
    hash_buckets: int = HASH_BUCKETS
    messages: int = Field(ge=0, description="Reference (training) messages profiled.")
    token_counts: dict[int, int] = Field(description="Hashed token id -> occurrences.")
    vocabulary: dict[int, str] = Field(
        description="Hashed token id -> a token with that id, to name drifting tokens."
    )
    shapes: ShapeSamples
    scores: list[float] = Field(description="Spam probability of every held-out message.")
    threshold: float = Field(gt=0, lt=1, description="Decision threshold of the model.")
    label_spam_rate: float = Field(ge=0, le=1, description="Spam share of training labels.")
    predicted_spam_rate: float = Field(ge=0, le=1, description="Held-out share >= threshold.")
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Calibrated drift thresholds, filled in later."
    )

    def oov_rate(self, hashes: Iterable[int]) -> float:
        """Share of token occurrences whose id never occurred in the reference."""
        seen = total = 0
        known = self.token_counts
        for h in hashes:
            total += 1
            seen += h in known
        return 1.0 - seen / total if total else 0.0

    def with_thresholds(self, thresholds: dict[str, float]) -> ReferenceProfile:
        return self.model_copy(update={"thresholds": dict(thresholds)})

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, data: bytes | str) -> ReferenceProfile:
        return cls.model_validate_json(data)


def build_profile(
    reference_texts: Sequence[str],
    reference_spam_rate: float,
    heldout_scores: Sequence[float],
    threshold: float,
    *,
    created_at: datetime | None = None,
) -> ReferenceProfile:
    """Profile the training messages and the held-out score distribution."""
    normalizer = reference_normalizer()
    counts: Counter[int] = Counter()
    names: dict[int, str] = {}
    length, tokens, digits, urls, upper = [], [], [], [], []
    for text in reference_texts:
        words = normalizer.tokens(text)
        for word in words:
            h = hash_token(word)
            counts[h] += 1
            names.setdefault(h, word)
        shape = shape_of(text, len(words))
        length.append(shape.length)
        tokens.append(shape.tokens)
        digits.append(shape.digits)
        urls.append(shape.urls)
        upper.append(shape.uppercase_ratio)
    scores = [float(s) for s in heldout_scores]
    return ReferenceProfile(
        created_at=created_at or utcnow(),
        messages=len(reference_texts),
        token_counts=dict(sorted(counts.items())),
        vocabulary=dict(sorted(names.items())),
        shapes=ShapeSamples(
            length=length, tokens=tokens, digits=digits, urls=urls, uppercase_ratio=upper
        ),
        scores=scores,
        threshold=threshold,
        label_spam_rate=reference_spam_rate,
        predicted_spam_rate=sum(s >= threshold for s in scores) / len(scores) if scores else 0.0,
    )
