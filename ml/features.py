"""Text-free views of a message for events and drift: shape statistics and hashed tokens.

Both use one fixed normaliser (Porter stems, placeholders), independent of the model that
serves, so that drift is always measured in the same token space as the reference profile.
Token ids are murmurhash3 (32-bit, seed 0) of the normalised token, modulo 2**18: stable
across processes and machines, unlike Python's salted `hash()`.
"""

from __future__ import annotations

import functools

import mmh3

from ml.tokenizer import Tokenizer, count_urls
from schemas.traffic import MessageShape

__all__ = [
    "HASH_BUCKETS",
    "hash_token",
    "message_features",
    "message_shape",
    "reference_normalizer",
    "shape_of",
    "token_hashes",
]

HASH_BUCKETS = 2**18


@functools.cache
def reference_normalizer() -> Tokenizer:
    """The normaliser of drift features, built on first use and then shared."""
    return Tokenizer(stemmer="porter", placeholders=True)


@functools.lru_cache(maxsize=200_000)
def hash_token(token: str) -> int:
    # mmh3 computes exactly sklearn's murmurhash3_32(seed=0, positive=True) (checked on
    # every corpus token in the tests) without importing scikit-learn into the API.
    return int(mmh3.hash(token, 0, signed=False)) % HASH_BUCKETS


def token_hashes(text: str) -> tuple[int, ...]:
    """Hashed ids of the message's normalised tokens, in message order (with repeats)."""
    return tuple(hash_token(t) for t in reference_normalizer().tokens(text))


def message_features(text: str) -> tuple[tuple[int, ...], MessageShape]:
    """`token_hashes` and `message_shape` with one tokenization (the request path's need)."""
    tokens = reference_normalizer().tokens(text)
    return tuple(hash_token(t) for t in tokens), shape_of(text, len(tokens))


def message_shape(text: str) -> MessageShape:
    """Length, token, digit, URL and upper-case statistics; no text leaves this function."""
    return shape_of(text, len(reference_normalizer().tokens(text)))


def shape_of(text: str, n_tokens: int) -> MessageShape:
    """`message_shape` for a message whose normalised tokens were already counted."""
    letters = sum(map(str.isalpha, text))
    upper = sum(map(str.isupper, text))
    return MessageShape(
        length=len(text),
        tokens=n_tokens,
        digits=sum(map(str.isdigit, text)),
        urls=count_urls(text),
        uppercase_ratio=min(1.0, upper / letters) if letters else 0.0,
    )
