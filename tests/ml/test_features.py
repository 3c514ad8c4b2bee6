"""Hashed tokens (stable across processes) and message shape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ml.features import HASH_BUCKETS, message_shape, token_hashes


def test_token_hashes_are_stable_across_processes() -> None:
    text = "WINNER!! Claim your prize at www.win.com"
    here = token_hashes(text)
    code = f"from ml.features import token_hashes; print(list(token_hashes({text!r})))"
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert there == str(list(here))
    assert all(0 <= h < HASH_BUCKETS for h in here)
    assert len(here) == 8  # winner ! ! claim your prize at xurlx: one id per token, in order
    assert token_hashes("") == ()


def test_same_token_same_id() -> None:
    assert token_hashes("prize")[0] == token_hashes("PRIZES")[0]  # lower-cased, stemmed


def test_message_shape() -> None:
    shape = message_shape("FREE entry! Call 08452810075 or see www.x.com")
    assert shape.length == 45
    assert shape.digits == 11
    assert shape.urls == 1
    assert shape.tokens == 8  # free entri ! call xphonex or see xurlx
    assert 0 < shape.uppercase_ratio < 1
    empty = message_shape("123")
    assert empty.uppercase_ratio == 0.0
    assert empty.tokens == 1


def test_message_features_match_the_separate_functions() -> None:
    from ml.features import message_features, message_shape, token_hashes

    for text in ("WIN £1000 now!! call 09061701461", "", "ok see u at 7 :) www.x.com"):
        assert message_features(text) == (token_hashes(text), message_shape(text))


def test_token_ids_equal_sklearns_murmurhash_on_the_corpus(dataset_path: Path) -> None:
    """Profiles built before the switch to mmh3 must keep matching live traffic."""
    from sklearn.utils import murmurhash3_32

    from ml.data import load_corpus
    from ml.features import HASH_BUCKETS, hash_token, reference_normalizer

    tokens = {
        t for text in load_corpus(dataset_path).texts for t in reference_normalizer().tokens(text)
    } | {"é", "日本", "", "x" * 300}
    for token in tokens:
        expected = murmurhash3_32(token, seed=0, positive=True) % HASH_BUCKETS
        assert hash_token(token) == expected, token
