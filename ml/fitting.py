"""Fitting one candidate: data preparation, CV, the final fit, held-out evaluation.

Pure computation, no MLflow: `ml.training` and `ml.search` log what this returns. The
held-out split comes from the base corpus only, so models trained with extra feedback
data are still evaluated on the same messages as every earlier version.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ml.candidates import CandidateSpec, build_pipeline
from ml.compile import compile_pipeline
from ml.crossval import CVResult, FeatureCache, cross_validate
from ml.data import LABELS, Corpus, DatasetFingerprint, content_sha256, load_corpus
from ml.errors import TrainingError
from ml.evaluation import Evaluation, labels_to_y
from ml.metrics import classification_metrics
from ml.profile import ReferenceProfile, build_profile
from ml.scorer_spec import ScorerSpec
from ml.split import Split, group_folds, split_groups, text_key
from schemas.common import Label
from spamops.settings import Settings

__all__ = [
    "FittedModel",
    "TrainingData",
    "fit_candidate",
    "prepare_data",
    "single_threaded",
    "top_features",
]

LabelledText = tuple[str, Label]


@dataclass(frozen=True)
class TrainingData:
    corpus: DatasetFingerprint
    split: Split
    train_texts: list[str]
    y_train: npt.NDArray[np.int64]
    train_keys: list[str]
    test_texts: list[str]
    y_test: npt.NDArray[np.int64]
    extra_rows: int
    extra_dropped: int
    """Extra messages dropped because their text is in the held-out split."""
    sha256: str
    """Fingerprint of all training + evaluation data (the corpus file's, without extras)."""


def _check_extra(extra: Sequence[LabelledText]) -> None:
    for i, item in enumerate(extra):
        if len(item) != 2 or not isinstance(item[0], str) or item[1] not in LABELS:
            raise TrainingError(
                f"extra message #{i} must be (text, 'ham'|'spam'), got {item!r:.80}"
            )
        if not item[0].strip():
            raise TrainingError(f"extra message #{i} has an empty text")


def prepare_data(
    settings: Settings, extra: Sequence[LabelledText] = (), corpus: Corpus | None = None
) -> TrainingData:
    """Base corpus split (seeded, stratified, duplicate-aware) plus extra training rows."""
    _check_extra(extra)
    corpus = corpus or load_corpus(settings.dataset_path)
    y = corpus.y
    split = split_groups(
        corpus.texts, y, test_size=settings.model.test_size, seed=settings.model.seed
    )
    held_out = {split.keys[i] for i in split.test.tolist()}
    kept = [(t, lab) for t, lab in extra if text_key(t) not in held_out]
    train_texts = [corpus.texts[i] for i in split.train.tolist()] + [t for t, _ in kept]
    y_extra = labels_to_y([lab for _, lab in kept])
    sha = corpus.sha256
    if kept:
        extra_sha = content_sha256([t for t, _ in kept], [lab for _, lab in kept])
        sha = hashlib.sha256(f"{corpus.sha256}+{extra_sha}".encode()).hexdigest()
    return TrainingData(
        corpus=corpus.fingerprint(),
        split=split,
        train_texts=train_texts,
        y_train=np.concatenate([y[split.train], y_extra]),
        train_keys=[split.keys[i] for i in split.train.tolist()] + [text_key(t) for t, _ in kept],
        test_texts=[corpus.texts[i] for i in split.test.tolist()],
        y_test=y[split.test],
        extra_rows=len(kept),
        extra_dropped=len(extra) - len(kept),
        sha256=sha,
    )


@dataclass
class FittedModel:
    spec: CandidateSpec
    pipeline: Any
    scorer: ScorerSpec
    cv: CVResult
    heldout: Evaluation
    profile: ReferenceProfile
    seconds: dict[str, float] = field(default_factory=dict)


def _fit_from_cache(
    spec: CandidateSpec, cache: FeatureCache, y: npt.NDArray[np.int64], seed: int
) -> Any:
    """The final pipeline, fitted without re-counting n-grams (see `ml.crossval`).

    Each TF-IDF vectorizer gets the vocabulary and idf a normal `fit` would learn, through
    sklearn's public `vocabulary_` attribute and `idf_` setter; a test checks the result
    against `pipeline.fit`.
    """
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer

    pipeline = build_pipeline(spec, seed)
    features = pipeline.named_steps["features"]
    vectorizers = (
        [v for _, v in features.transformer_list]
        if hasattr(features, "transformer_list")
        else [features]
    )
    blocks = []
    for vec, (counts, vocabulary) in zip(vectorizers, cache.fitted_counts(spec), strict=True):
        keep = np.bincount(counts.indices, minlength=counts.shape[1]) >= vec.min_df
        terms = [t for t, col in sorted(vocabulary.items(), key=lambda kv: kv[1]) if keep[col]]
        weigh = TfidfTransformer(
            norm=vec.norm, use_idf=True, smooth_idf=vec.smooth_idf, sublinear_tf=vec.sublinear_tf
        ).fit(counts[:, keep])
        vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
        vec.idf_ = weigh.idf_
        blocks.append(weigh.transform(counts[:, keep]))
    pipeline.named_steps["classifier"].fit(sp.hstack(blocks, format="csr"), y)
    return pipeline


def fit_candidate(
    spec: CandidateSpec,
    data: TrainingData,
    settings: Settings,
    *,
    cache: FeatureCache | None = None,
    cv: CVResult | None = None,
) -> FittedModel:
    """CV on the training side, final fit, held-out evaluation, compilation and profile."""
    seconds: dict[str, float] = {}
    seed, threshold = settings.model.seed, settings.model.threshold
    if len(set(data.y_train.tolist())) < 2:
        raise TrainingError("training data holds a single class; need both ham and spam")
    start = time.perf_counter()
    cache = cache or FeatureCache(data.train_texts)
    if cv is None:
        folds = group_folds(
            data.train_keys, data.y_train, n_splits=settings.model.cv_folds, seed=seed
        )
        cv = cross_validate(spec, cache, data.y_train, folds, seed=seed, threshold=threshold)
    seconds["cv"] = time.perf_counter() - start
    start = time.perf_counter()
    pipeline = _fit_from_cache(spec, cache, data.y_train, seed)
    seconds["fit"] = time.perf_counter() - start
    start = time.perf_counter()
    p_test = np.asarray(pipeline.predict_proba(data.test_texts)[:, 1], dtype=np.float64)
    heldout = Evaluation(
        metrics=classification_metrics(data.y_test, p_test, threshold),
        y_true=data.y_test,
        p_spam=p_test,
        threshold=threshold,
    )
    seconds["evaluate"] = time.perf_counter() - start
    start = time.perf_counter()
    scorer = compile_pipeline(pipeline)
    seconds["compile"] = time.perf_counter() - start
    start = time.perf_counter()
    profile = build_profile(
        data.train_texts,
        float(data.y_train.mean()),
        p_test.tolist(),
        threshold,
        oof_scores=cv.oof.tolist(),
    )
    seconds["profile"] = time.perf_counter() - start
    return FittedModel(spec, pipeline, scorer, cv, heldout, profile, seconds)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Limit BLAS/OpenMP pools to one thread while fitting.

    On a 2-core machine their spinning worker threads made liblinear fit times vary
    tenfold between identical runs; one thread is both faster and steady.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(1):
        yield


def top_features(scorer: ScorerSpec, k: int = 25) -> dict[str, list[tuple[str, float]]]:
    """The k strongest spam and ham features (weights averaged over heads), as `part:term`."""
    names: list[str] = []
    weights: list[float] = []
    for part in scorer.parts:
        names.extend(f"{part.name}:{t}" for t in part.terms)
        weights.extend(np.mean(np.asarray(part.coef), axis=0).tolist())
    w = np.asarray(weights)
    order = np.argsort(w)
    return {
        "spam": [(names[i], float(w[i])) for i in order[::-1][:k]],
        "ham": [(names[i], float(w[i])) for i in order[:k]],
    }
