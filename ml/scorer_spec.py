"""The JSON form of a compiled model: vocabularies, idf, coefficients, preprocessing config.

This is what the API loads. It is data only: reading it with a JSON parser executes no
code, unlike unpickling an sklearn pipeline. The code that interprets it is `ml.scorer`,
which ships with the service, not with the artifact.
"""

from __future__ import annotations

from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ml.errors import CompileError
from ml.tokenizer import NormalizerConfig

__all__ = ["FORMAT", "HeadSpec", "PartSpec", "ScorerSpec"]

FORMAT: Literal["spamops.linear-scorer"] = "spamops.linear-scorer"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartSpec(_Frozen):
    """One TF-IDF vectorizer of the feature union, with its slice of every head's weights."""

    name: str
    analyzer: Literal["word", "char_wb", "char"]
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    binary: bool = False
    norm: Literal["l2"] | None = "l2"
    terms: list[str]
    idf: list[float] | None
    """None when the vectorizer had `use_idf=False`."""
    coef: list[list[float]]
    """One weight list per head, aligned with `terms`."""

    @model_validator(mode="after")
    def _aligned(self) -> PartSpec:
        n = len(self.terms)
        if self.idf is not None and len(self.idf) != n:
            raise ValueError(f"part {self.name}: {len(self.idf)} idf values for {n} terms")
        if any(len(c) != n for c in self.coef):
            raise ValueError(f"part {self.name}: coefficient rows do not match {n} terms")
        return self


class HeadSpec(_Frozen):
    """p = sigmoid(scale * (w·x + intercept) + offset); the model averages its heads.

    Logistic regression, log-loss SGD and complement naive Bayes have one head with
    scale 1, offset 0; a sigmoid-calibrated LinearSVC has one head per calibration fold.
    """

    intercept: float
    scale: float = 1.0
    offset: float = 0.0


class ScorerSpec(_Frozen):
    format: Literal["spamops.linear-scorer"] = FORMAT
    version: Literal[1] = 1
    normalizer: NormalizerConfig
    parts: list[PartSpec] = Field(min_length=1)
    heads: list[HeadSpec] = Field(min_length=1)
    estimator: str
    """Class name of the classifier it was compiled from (informational)."""
    sklearn_version: str

    @model_validator(mode="after")
    def _heads_match(self) -> ScorerSpec:
        if any(len(p.coef) != len(self.heads) for p in self.parts):
            raise ValueError("every part needs one coefficient row per head")
        return self

    @property
    def n_features(self) -> int:
        return sum(len(p.terms) for p in self.parts)

    def to_json(self) -> bytes:
        """Floats are written with shortest round-trip repr, so loading is bit-exact."""
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, data: bytes | str) -> ScorerSpec:
        try:
            return cls.model_validate_json(data)
        except ValueError as exc:
            raise CompileError(
                f"not a valid {FORMAT} v1 document ({str(exc)[:300]}); "
                "re-train the model or clear the model cache"
            ) from None
