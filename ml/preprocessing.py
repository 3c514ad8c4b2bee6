"""The first step of every fitted pipeline: `TextNormalizer`, an sklearn transformer.

The code that prepared the training data is the code that prepares a message at serving
time: this step and the fast scorer both delegate to `ml.tokenizer.Tokenizer`. The step is
stateless; the tokenizer is rebuilt on first use (not pickled).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from sklearn.base import BaseEstimator, TransformerMixin

from ml.tokenizer import (
    PLACEHOLDERS,
    WORD_PATTERN,
    NormalizerConfig,
    Stemmer,
    Tokenizer,
    count_urls,
    replace_placeholders,
)

__all__ = [
    "PLACEHOLDERS",
    "WORD_PATTERN",
    "NormalizerConfig",
    "Stemmer",
    "TextNormalizer",
    "count_urls",
    "replace_placeholders",
]


def _texts(x: Any) -> Iterable[str]:
    """Accept a list/array of strings, or the one-column DataFrame MLflow's pyfunc passes."""
    if getattr(x, "ndim", 1) == 2:
        x = x.iloc[:, 0] if hasattr(x, "iloc") else x[:, 0]
    return (t if isinstance(t, str) else str(t) for t in x)


class TextNormalizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """sklearn transformer: message -> space-joined normalised tokens (stateless)."""

    _fast: Tokenizer  # built on first use, never pickled

    def __init__(
        self, stemmer: Stemmer = "porter", placeholders: bool = True, cache_size: int = 100_000
    ) -> None:
        self.stemmer = stemmer
        self.placeholders = placeholders
        self.cache_size = cache_size

    @classmethod
    def from_config(cls, config: NormalizerConfig) -> TextNormalizer:
        return cls(stemmer=config.stemmer, placeholders=config.placeholders)

    def config(self) -> NormalizerConfig:
        return NormalizerConfig(stemmer=self.stemmer, placeholders=self.placeholders)

    @property
    def tokenizer(self) -> Tokenizer:
        try:
            tokenizer: Tokenizer = self._fast
        except AttributeError:
            tokenizer = self._fast = Tokenizer(self.stemmer, self.placeholders, self.cache_size)
        return tokenizer

    def tokens(self, text: str) -> list[str]:
        """The normalised tokens of one message."""
        return self.tokenizer.tokens(text)

    def normalise(self, text: str) -> str:
        """One message as the vectorizers see it: tokens joined by single spaces."""
        return self.tokenizer.normalise(text)

    def fit(self, x: Any, y: Any = None) -> Self:
        return self

    def transform(self, x: Any) -> list[str]:
        normalise = self.tokenizer.normalise
        return [normalise(t) for t in _texts(x)]

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_fast", None)  # NLTK objects and the stem cache are rebuilt on first use
        return state
