"""The model family: named candidate specs, the search grid, and building their pipelines.

Every candidate is Pipeline(normalise -> TF-IDF word and/or char n-grams -> linear
classifier), so every one compiles to the JSON fast scorer. The default (`union-logreg`)
won the search on cross-validated MCC; see docs/model.md.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ml.errors import TrainingError
from ml.preprocessing import Stemmer, TextNormalizer

__all__ = [
    "CandidateSpec",
    "build_classifier",
    "build_pipeline",
    "build_vectorizers",
    "get_candidate",
    "presets",
    "search_grid",
]

Classifier = Literal["logreg", "linear-svc", "complement-nb", "sgd"]
Features = Literal["word", "char", "union"]


class CandidateSpec(BaseModel):
    """One point of the model family; flat, so that it logs as MLflow params as-is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    features: Features = "union"
    stemmer: Stemmer = "porter"
    placeholders: bool = True
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    sublinear_tf: bool = True
    min_df: int = Field(default=1, ge=1)
    classifier: Classifier = "logreg"
    c: float = Field(default=30.0, gt=0, description="Inverse regularisation (logreg, SVC).")
    alpha: float = Field(default=1e-5, gt=0, description="Regularisation (SGD) / smoothing (NB).")

    def params(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump().items()}

    def with_name(self, name: str) -> CandidateSpec:
        return self.model_copy(update={"name": name})


def presets() -> dict[str, CandidateSpec]:
    """Named candidates: one per classifier on the union features, and single-view variants."""
    specs = [
        CandidateSpec(name="union-logreg"),
        CandidateSpec(name="word-logreg", features="word"),
        CandidateSpec(name="char-logreg", features="char"),
        CandidateSpec(name="union-svc", classifier="linear-svc", c=1.0),
        CandidateSpec(name="union-cnb", classifier="complement-nb", alpha=0.1),
        CandidateSpec(name="union-sgd", classifier="sgd", alpha=1e-5),
    ]
    return {s.name: s for s in specs}


def get_candidate(name: str) -> CandidateSpec:
    try:
        return presets()[name]
    except KeyError:
        raise TrainingError(
            f"unknown candidate {name!r}; set SPAMOPS_MODEL__CANDIDATE to one of "
            f"{', '.join(presets())}"
        ) from None


def search_grid() -> list[CandidateSpec]:
    """What `spamops train --search` tries: classifiers x regularisation, then feature views."""
    grid: list[CandidateSpec] = []
    for c in (3.0, 10.0, 30.0, 100.0):
        grid.append(CandidateSpec(name=f"union-logreg-c{c:g}", c=c))
    for c in (0.3, 1.0, 3.0):
        grid.append(CandidateSpec(name=f"union-svc-c{c:g}", classifier="linear-svc", c=c))
    for alpha in (0.03, 0.1, 0.3):
        grid.append(
            CandidateSpec(name=f"union-cnb-a{alpha:g}", classifier="complement-nb", alpha=alpha)
        )
    for alpha in (1e-5, 3e-5, 1e-4):
        grid.append(CandidateSpec(name=f"union-sgd-a{alpha:g}", classifier="sgd", alpha=alpha))
    variants: list[tuple[str, dict[str, Any]]] = [
        ("word", {"features": "word"}),
        ("char", {"features": "char"}),
        ("nostem", {"stemmer": "none"}),
        ("snowball", {"stemmer": "snowball"}),
        ("noplaceholders", {"placeholders": False}),
        ("word13", {"word_ngrams": (1, 3)}),
        ("char36", {"char_ngrams": (3, 6)}),
        ("char15", {"char_ngrams": (1, 5)}),
        ("mindf2", {"min_df": 2}),
        ("rawtf", {"sublinear_tf": False}),
    ]
    for label, change in variants:
        grid.append(CandidateSpec(name=f"union-logreg-{label}", **change))
    return grid


def build_vectorizers(spec: CandidateSpec) -> list[tuple[str, Any]]:
    """The TF-IDF vectorizers of a candidate, as (name, unfitted vectorizer)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    common: dict[str, Any] = {
        "lowercase": False,  # TextNormalizer already lower-cased
        "sublinear_tf": spec.sublinear_tf,
        "min_df": spec.min_df,
        "dtype": np.float64,
    }
    out: list[tuple[str, Any]] = []
    if spec.features in ("word", "union"):
        word = TfidfVectorizer(
            analyzer="word",
            tokenizer=str.split,
            token_pattern=None,
            ngram_range=spec.word_ngrams,
            **common,
        )
        out.append(("word", word))
    if spec.features in ("char", "union"):
        out.append(
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=spec.char_ngrams, **common))
        )
    return out


def build_classifier(spec: CandidateSpec, seed: int) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    if spec.classifier == "logreg":
        # liblinear: 3x faster than lbfgs on 75k sparse features, same optimum within tol.
        return LogisticRegression(C=spec.c, solver="liblinear", max_iter=1000, random_state=seed)
    if spec.classifier == "linear-svc":
        svc = LinearSVC(C=spec.c, max_iter=10_000, random_state=seed)
        return CalibratedClassifierCV(svc, method="sigmoid", cv=3)
    if spec.classifier == "complement-nb":
        return ComplementNB(alpha=spec.alpha)
    return SGDClassifier(
        loss="log_loss", alpha=spec.alpha, max_iter=200, tol=1e-5, random_state=seed
    )


def build_pipeline(spec: CandidateSpec, seed: int) -> Any:
    """Unfitted Pipeline(normalise, features, classifier)."""
    from sklearn.pipeline import FeatureUnion, Pipeline

    vectorizers = build_vectorizers(spec)
    features = vectorizers[0][1] if len(vectorizers) == 1 else FeatureUnion(vectorizers)
    normalizer = TextNormalizer(stemmer=spec.stemmer, placeholders=spec.placeholders)
    return Pipeline(
        [
            ("normalise", normalizer),
            ("features", features),
            ("classifier", build_classifier(spec, seed)),
        ]
    )
