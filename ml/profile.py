"""The drift reference profile, logged with every model version as a JSON artifact.

Drift is measured against the data the serving model was trained on, so the reference
travels with the model: hashed-token counts (Jensen-Shannon distance, OOV rate), the
per-message shape statistics (KS), and the spam-probability distribution on the held-out
split (output drift).

Version 2 adds what calibration and the domain classifier need, per training message: its
hashed tokens and its out-of-fold spam probability (from the training CV, i.e. a score of a
message the scoring model had not seen). With them the drift consumer can resample clean
windows that behave like unseen traffic (`ml.drift.calibration`). `thresholds` stays empty:
calibrated thresholds depend on the monitoring settings (window size, target false-alarm
rate), so the consumer computes them once per model version and caches them (docs/monitoring.md).
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

    version: int = 2
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
    message_tokens: list[list[int]] = Field(
        default_factory=list,
        description="Hashed token ids of every reference message (same order as `shapes`).",
    )
    message_scores: list[float] = Field(
        default_factory=list,
        description="Out-of-fold spam probability of every reference message (training CV).",
    )

    @property
    def calibratable(self) -> bool:
        """Whether it carries the per-message data drift calibration needs (version 2+)."""
        n = self.messages
        return n > 0 and len(self.message_tokens) == n and len(self.message_scores) == n

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
    oof_scores: Sequence[float] | None = None,
    created_at: datetime | None = None,
) -> ReferenceProfile:
    """Profile the training messages and the held-out score distribution.

    `oof_scores`: the out-of-fold spam probability of each training message; without them
    the profile cannot be calibrated for drift (`calibratable` is False).
    """
    if oof_scores is not None and len(oof_scores) != len(reference_texts):
        raise ValueError(
            f"{len(oof_scores)} out-of-fold scores for {len(reference_texts)} messages"
        )
    normalizer = reference_normalizer()
    counts: Counter[int] = Counter()
    names: dict[int, str] = {}
    per_message: list[list[int]] = []
    length, tokens, digits, urls, upper = [], [], [], [], []
    for text in reference_texts:
        words = normalizer.tokens(text)
        ids = [hash_token(word) for word in words]
        per_message.append(ids)
        for word, h in zip(words, ids, strict=True):
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
        message_tokens=per_message,
        message_scores=[float(s) for s in oof_scores] if oof_scores is not None else [],
    )
