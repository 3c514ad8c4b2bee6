"""Compile a fitted sklearn pipeline into a `ScorerSpec` (the JSON fast scorer).

Only what the pipeline really computes is carried over: for each TF-IDF vectorizer its
vocabulary, idf and weighting options; for the classifier one linear "head" per averaged
member. Anything the scorer would not reproduce exactly raises `CompileError` rather than
compiling to a subtly different model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ml.errors import CompileError
from ml.preprocessing import TextNormalizer
from ml.scorer_spec import HeadSpec, PartSpec, ScorerSpec

__all__ = ["compile_pipeline", "linear_heads", "union_parts"]

Heads = list[tuple[npt.NDArray[np.float64], HeadSpec]]


def union_parts(features: Any) -> list[tuple[str, Any]]:
    """The (name, vectorizer) pairs of a feature step: a FeatureUnion or one vectorizer."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    if isinstance(features, FeatureUnion):
        if features.transformer_weights:
            raise CompileError("FeatureUnion transformer_weights are not supported")
        parts = [(name, vec) for name, vec in features.transformer_list if vec != "drop"]
    else:
        parts = [("features", features)]
    for name, vec in parts:
        if not isinstance(vec, TfidfVectorizer):
            raise CompileError(
                f"feature step {name!r} is {type(vec).__name__}, not TfidfVectorizer"
            )
    return parts


def _analyzer(name: str, vec: Any) -> str:
    if vec.lowercase or vec.preprocessor is not None or vec.strip_accents is not None:
        raise CompileError(f"{name}: lowercase/preprocessor/strip_accents must be off")
    if vec.stop_words is not None:
        raise CompileError(f"{name}: stop words are not supported")
    if vec.norm not in ("l2", None):
        raise CompileError(f"{name}: norm {vec.norm!r} is not supported (use 'l2' or None)")
    if vec.analyzer == "word":
        if vec.tokenizer is not str.split:
            raise CompileError(f"{name}: word analyzers must use tokenizer=str.split")
        return "word"
    if vec.analyzer in ("char_wb", "char"):
        return str(vec.analyzer)
    raise CompileError(f"{name}: analyzer {vec.analyzer!r} is not supported")


def linear_heads(clf: Any) -> Heads:
    """Weights and link of every averaged member of a fitted binary classifier."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.naive_bayes import ComplementNB

    if len(getattr(clf, "classes_", ())) != 2:
        raise CompileError("only binary classifiers compile")
    if isinstance(clf, LogisticRegression) or (
        isinstance(clf, SGDClassifier) and clf.loss == "log_loss"
    ):
        return [
            (
                np.asarray(clf.coef_[0], dtype=np.float64),
                HeadSpec(intercept=float(clf.intercept_[0])),
            )
        ]
    if isinstance(clf, ComplementNB):
        flp = np.asarray(clf.feature_log_prob_, dtype=np.float64)
        return [(flp[1] - flp[0], HeadSpec(intercept=0.0))]
    if isinstance(clf, CalibratedClassifierCV):
        heads: Heads = []
        for member in clf.calibrated_classifiers_:
            if member.method != "sigmoid" or len(member.calibrators) != 1:
                raise CompileError("only sigmoid calibration compiles")
            inner = member.estimator
            if not hasattr(inner, "coef_"):
                raise CompileError(f"calibrated {type(inner).__name__} is not linear")
            cal = member.calibrators[0]
            heads.append(
                (
                    np.asarray(inner.coef_[0], dtype=np.float64),
                    HeadSpec(
                        intercept=float(np.ravel(inner.intercept_)[0]),
                        scale=-float(cal.a_),
                        offset=-float(cal.b_),
                    ),
                )
            )
        return heads
    raise CompileError(f"classifier {type(clf).__name__} does not compile to a linear scorer")


def compile_pipeline(pipeline: Any) -> ScorerSpec:
    """Pipeline(normalise=TextNormalizer, features=TF-IDF (union), classifier=linear)."""
    import sklearn

    steps = dict(pipeline.named_steps)
    try:
        normalizer, features, clf = (steps[k] for k in ("normalise", "features", "classifier"))
    except KeyError as exc:
        raise CompileError(f"pipeline has no {exc.args[0]!r} step") from None
    if not isinstance(normalizer, TextNormalizer):
        raise CompileError("the first step must be ml.preprocessing.TextNormalizer")
    if [int(c) for c in clf.classes_] != [0, 1]:
        raise CompileError("classes must be [0 (ham), 1 (spam)]")
    heads = linear_heads(clf)
    parts: list[PartSpec] = []
    offset = 0
    for name, vec in union_parts(features):
        analyzer = _analyzer(name, vec)
        vocab: dict[str, int] = vec.vocabulary_
        terms = sorted(vocab, key=vocab.__getitem__)
        columns = slice(offset, offset + len(terms))
        offset += len(terms)
        parts.append(
            PartSpec(
                name=name,
                analyzer=analyzer,  # type: ignore[arg-type]  # checked by _analyzer
                ngram_range=tuple(vec.ngram_range),
                sublinear_tf=bool(vec.sublinear_tf),
                binary=bool(vec.binary),
                norm=vec.norm,
                terms=terms,
                idf=[float(v) for v in vec.idf_] if vec.use_idf else None,
                coef=[w[columns].tolist() for w, _ in heads],
            )
        )
    if any(len(w) != offset for w, _ in heads):
        raise CompileError(f"classifier has {len(heads[0][0])} weights for {offset} features")
    return ScorerSpec(
        normalizer=normalizer.config(),
        parts=parts,
        heads=[h for _, h in heads],
        estimator=type(clf).__name__,
        sklearn_version=sklearn.__version__,
    )
