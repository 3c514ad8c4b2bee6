"""One window of predictions, as the arrays the drift statistics read.

A window holds, per message, what `prediction.made` carries even when redacted: the hashed
token ids, the text-free shape and the served spam probability and label; the text only
when events carry it. The same class describes a resampled clean window in calibration and
a scenario window in the evaluation, so all three measure through one code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["SHAPE_FIELDS", "FloatArray", "IntArray", "WindowSample"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SHAPE_FIELDS: tuple[str, ...] = ("length", "digits", "urls", "uppercase_ratio")
"""The `MessageShape` fields whose distributions are compared (in this column order)."""


@dataclass(frozen=True)
class WindowSample:
    tokens: tuple[IntArray, ...]
    """Hashed token ids of each message (`ml.features.token_hashes`)."""
    shapes: FloatArray
    """One row per message, one column per `SHAPE_FIELDS` entry."""
    scores: FloatArray
    """Served spam probability of each message."""
    predicted_spam: npt.NDArray[np.bool_]
    """Whether each message was labelled spam when served."""
    texts: tuple[str | None, ...] = ()
    """The message texts, or () when events are redacted."""

    def __post_init__(self) -> None:
        n = len(self.tokens)
        if self.shapes.shape != (n, len(SHAPE_FIELDS)) or len(self.scores) != n:
            raise ValueError(f"window arrays disagree on the number of messages ({n})")
        if len(self.predicted_spam) != n or (self.texts and len(self.texts) != n):
            raise ValueError(f"window labels or texts disagree on the number of messages ({n})")

    @property
    def n(self) -> int:
        return len(self.tokens)

    @property
    def has_texts(self) -> bool:
        return any(t is not None for t in self.texts)

    @classmethod
    def build(
        cls,
        tokens: Sequence[Sequence[int]],
        shapes: Sequence[Sequence[float]],
        scores: Sequence[float],
        predicted_spam: Sequence[bool],
        texts: Sequence[str | None] | None = None,
    ) -> WindowSample:
        """From plain Python values (decoded events, a scenario, a test)."""
        return cls(
            tokens=tuple(np.asarray(t, dtype=np.int64) for t in tokens),
            shapes=np.asarray(shapes, dtype=np.float64).reshape(len(tokens), len(SHAPE_FIELDS)),
            scores=np.asarray(scores, dtype=np.float64),
            predicted_spam=np.asarray(predicted_spam, dtype=np.bool_),
            texts=tuple(texts) if texts and any(t is not None for t in texts) else (),
        )
