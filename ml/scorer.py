"""The fast scorer: a compiled TF-IDF + linear model evaluated with dict lookups.

sklearn's `predict_proba` on one message spends ~1 ms in per-call overhead (input
validation, sparse matrix construction, several array allocations). Here one message costs
its normalisation, its n-grams and one dict lookup per distinct n-gram. The arithmetic
repeats sklearn's exactly (same n-gram rules, tf = 1 + ln(count), idf weights, L2 norm per
vectorizer, sigmoid link), so probabilities agree to ~1e-15; `tests/ml/test_scorer.py`
checks every corpus message against the pipeline.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from ml.errors import CompileError
from ml.ngrams import ANALYZERS, char_wb_ngrams
from ml.scorer_spec import PartSpec, ScorerSpec
from ml.tokenizer import Tokenizer

__all__ = ["FastScorer", "sigmoid"]

# tf = 1 + ln(count), as sklearn computes it (np.log), for the counts one message has.
_SUBLINEAR = np.concatenate(([0.0], np.log(np.arange(1, 256, dtype=np.float64)) + 1.0))


def sigmoid(x: float) -> float:
    """scipy's `expit`, without numpy's per-call overhead."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class _Part:
    """One vectorizer's analyzer, mapping a document to the global ids of its known n-grams.

    char_wb n-grams never cross words, so each word's known ids are memoised (bounded LRU)
    and a message is the concatenation of its words' ids.
    """

    __slots__ = ("ids", "norm", "start", "stop")

    def __init__(self, spec: PartSpec, start: int, cache_size: int) -> None:
        self.start, self.stop = start, start + len(spec.terms)
        self.norm = spec.norm == "l2"
        get = {t: start + i for i, t in enumerate(spec.terms)}.get
        lo, hi = spec.ngram_range
        if spec.analyzer == "char_wb":
            grams = char_wb_ngrams(lo, hi)

            @functools.lru_cache(maxsize=cache_size)
            def word_ids(word: str) -> tuple[int, ...]:
                return tuple(i for i in map(get, grams(word)) if i is not None)

            def ids(doc: str) -> list[int]:
                out: list[int] = []
                for word in doc.split():
                    out.extend(word_ids(word))
                return out

            self.ids: Callable[[str], list[int]] = ids
        else:
            analyze = ANALYZERS[spec.analyzer](lo, hi)
            self.ids = lambda doc: [i for i in map(get, analyze(doc)) if i is not None]


def _tf_mode(spec: PartSpec) -> str:
    return "binary" if spec.binary else "sublinear" if spec.sublinear_tf else "raw"


class FastScorer:
    """Spam probability of a message from a `ScorerSpec`, without sklearn at serving time.

    Per message: the known n-gram ids of every part (one global id space), one `np.unique`
    for the counts, w = tf(count)·idf, each part's slice divided by its L2 norm, then
    coef·w + intercept per head and the sigmoid link: sklearn's arithmetic on a few
    hundred entries instead of its ~1 ms of per-call overhead.
    """

    def __init__(self, spec: ScorerSpec, *, cache_size: int = 100_000) -> None:
        self.spec = spec
        self.normalizer = Tokenizer.from_config(spec.normalizer)
        self._parts: list[_Part] = []
        start = 0
        for part in spec.parts:
            self._parts.append(_Part(part, start, cache_size))
            start += len(part.terms)
        self._idf = np.concatenate(
            [np.asarray(p.idf if p.idf is not None else [1.0] * len(p.terms)) for p in spec.parts]
        ).astype(np.float64)
        self._coef = np.hstack(
            [np.asarray(p.coef, dtype=np.float64).reshape(len(spec.heads), -1) for p in spec.parts]
        )
        modes = {_tf_mode(p) for p in spec.parts}
        if len(modes) != 1:
            raise CompileError("all parts of a scorer must share one tf weighting")
        weightings: dict[str, Callable[[npt.NDArray[np.intp]], npt.NDArray[np.float64]]] = {
            "binary": _binary,
            "sublinear": _sublinear,
            "raw": _raw,
        }
        self._tf = weightings[modes.pop()]
        self._bounds = [p.stop for p in self._parts[:-1]]
        self._intercepts = np.array([h.intercept for h in spec.heads], dtype=np.float64)
        self._links = [(h.scale, h.offset) for h in spec.heads]

    def decision(self, text: str, tokens: list[str] | None = None) -> npt.NDArray[np.float64]:
        """The linear score (before the link) of every head.

        `tokens`, when given, must be this scorer's normalisation of `text` (see
        `LoadedModel.analyse`, which shares one tokenization with the event features).
        """
        doc = " ".join(tokens) if tokens is not None else self.normalizer.normalise(text)
        ids: list[int] = []
        for part in self._parts:
            ids.extend(part.ids(doc))
        if not ids:
            return self._intercepts.copy()
        terms, counts = np.unique(np.array(ids, dtype=np.intp), return_counts=True)
        w = self._tf(counts) * self._idf[terms]
        cuts = [0, *np.searchsorted(terms, self._bounds).tolist(), len(terms)]
        for part, lo, hi in zip(self._parts, cuts, cuts[1:], strict=False):
            if part.norm and hi > lo:
                chunk = w[lo:hi]
                chunk /= math.sqrt(float(chunk @ chunk))
        out: npt.NDArray[np.float64] = self._coef[:, terms] @ w + self._intercepts
        return out

    def score(self, text: str, tokens: list[str] | None = None) -> float:
        """P(spam) for one message."""
        decisions = self.decision(text, tokens)
        if len(self._links) == 1:
            scale, offset = self._links[0]
            return sigmoid(scale * float(decisions[0]) + offset)
        total = 0.0
        for d, (scale, offset) in zip(decisions.tolist(), self._links, strict=True):
            total += sigmoid(scale * d + offset)
        return total / len(self._links)

    def score_batch(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """P(spam) for many messages (the per-message path: no per-call overhead to amortise)."""
        return np.fromiter((self.score(t) for t in texts), dtype=np.float64, count=len(texts))


def _sublinear(counts: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    if counts.max() < len(_SUBLINEAR):
        return _SUBLINEAR[counts]
    return np.log(counts.astype(np.float64)) + 1.0


def _binary(counts: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    return np.ones(len(counts), dtype=np.float64)


def _raw(counts: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    return counts.astype(np.float64)
