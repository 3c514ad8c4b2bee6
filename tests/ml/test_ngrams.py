"""Our n-gram rules and counting equal sklearn's CountVectorizer on the corpus."""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import CountVectorizer

from ml.fitting import TrainingData
from ml.ngrams import ANALYZERS, count_ngrams
from ml.preprocessing import TextNormalizer


@pytest.fixture(scope="module")
def docs(training_data: TrainingData) -> list[str]:
    return [*TextNormalizer().transform(training_data.train_texts[::2]), "", "a", "x y"]


@pytest.mark.parametrize(
    ("analyzer", "ngram_range", "binary"),
    [
        ("word", (1, 2), False),
        ("word", (2, 3), False),
        ("char_wb", (2, 5), False),
        ("char_wb", (1, 3), True),
        ("char", (2, 4), False),
    ],
)
def test_counts_equal_count_vectorizer(
    docs: list[str], analyzer: str, ngram_range: tuple[int, int], binary: bool
) -> None:
    options = {"tokenizer": str.split, "token_pattern": None} if analyzer == "word" else {}
    reference = CountVectorizer(
        analyzer=analyzer, ngram_range=ngram_range, lowercase=False, binary=binary, **options
    )
    expected = reference.fit_transform(docs)
    counts, vocabulary = count_ngrams(docs, analyzer, ngram_range, binary=binary)
    assert vocabulary == reference.vocabulary_
    assert counts.shape == expected.shape
    assert (counts != expected).nnz == 0
    analyze = reference.build_analyzer()
    ours = ANALYZERS[analyzer](*ngram_range)
    assert all(ours(d) == analyze(d) for d in docs[:500])
