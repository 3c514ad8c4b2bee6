"""Text normalisation: placeholders, lower case, NLTK tokenising and stemming.

`TextNormalizer` is the first step of every fitted pipeline, so the code that prepared the
training data is the code that prepares a message at serving time: the fast scorer calls
the same `tokens()` method. Nothing here downloads NLTK data: `RegexpTokenizer` and the
Porter/Snowball stemmers are pure code. NLTK objects are built on first use (not at import,
not in the pickle); stems are memoised in a bounded LRU cache, which makes a warm
normalisation cost about 20 µs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = [
    "PLACEHOLDERS",
    "NormalizerConfig",
    "Stemmer",
    "TextNormalizer",
    "count_urls",
    "replace_placeholders",
]

Stemmer = Literal["porter", "snowball", "none"]

PLACEHOLDERS = {
    "url": "xurlx",
    "email": "xemailx",
    "money": "xmoneyx",
    "phone": "xphonex",
    "number": "xnumberx",
}

# The regexes run on lower-cased text. Cheap pre-checks keep the common case (a short
# ham message with no '@', no domain and no digit) to three substring scans.
_TLDS = r"(?:com|net|org|co\.uk|org\.uk|biz|info|tv|mobi|me)"
_URL_HINT = re.compile(rf"https?:|www\.|\.{_TLDS}\b")
_URL = re.compile(rf"(?:https?://|www\.)\S+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.{_TLDS}\b(?:/\S*)?")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMERIC_HINT = re.compile(r"[\d£$€]")
_NUMERIC = re.compile(
    r"(?P<money>[£$€]\s?\d+(?:[.,]\d+)*|\d+(?:[.,]\d+)?\s?(?:p|pence|gbp|pounds?)\b)"
    r"|(?P<phone>\+?\d(?:[ -]?\d){8,})"
    r"|(?P<number>\d+(?:[.,:]\d+)*)"
)
_PADDED = {name: f" {token} " for name, token in PLACEHOLDERS.items()}
# Words (with inner apostrophes) or single non-space symbols such as '!', '£', '&'.
WORD_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"


def _numeric(match: re.Match[str]) -> str:
    return _PADDED[match.lastgroup or "number"]


def replace_placeholders(lowered: str) -> str:
    """Replace e-mails, URLs, money, phone numbers and other numbers by placeholder words."""
    text = lowered
    if "@" in text:
        text = _EMAIL.sub(_PADDED["email"], text)
    if _URL_HINT.search(text):
        text = _URL.sub(_PADDED["url"], text)
    if _NUMERIC_HINT.search(text):
        text = _NUMERIC.sub(_numeric, text)
    return text


def count_urls(text: str) -> int:
    """URLs in a message, by the same rule the placeholder uses."""
    lowered = text.lower()
    return len(_URL.findall(lowered)) if _URL_HINT.search(lowered) else 0


class NormalizerConfig(BaseModel):
    """The constructor arguments of a `TextNormalizer`, as stored in the JSON scorer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stemmer: Stemmer = "porter"
    placeholders: bool = True


@functools.cache
def _stem_function(stemmer: Stemmer, cache_size: int) -> Callable[[str], str]:
    """One memoised stemmer per kind, shared by every normaliser in the process.

    Training, evaluation, the profile and the serving scorer all stem the same words;
    sharing the LRU cache means each word is stemmed by NLTK once (~20 µs), then looked up.
    """
    if stemmer == "porter":
        from nltk.stem.porter import PorterStemmer

        return functools.lru_cache(maxsize=cache_size)(PorterStemmer().stem)
    from nltk.stem.snowball import SnowballStemmer

    return functools.lru_cache(maxsize=cache_size)(SnowballStemmer("english").stem)


def _texts(x: Any) -> Iterable[str]:
    """Accept a list/array of strings, or the one-column DataFrame MLflow's pyfunc passes."""
    if getattr(x, "ndim", 1) == 2:
        x = x.iloc[:, 0] if hasattr(x, "iloc") else x[:, 0]
    return (t if isinstance(t, str) else str(t) for t in x)


class TextNormalizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """sklearn transformer: message -> space-joined normalised tokens (stateless)."""

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

    def _build(self) -> tuple[Callable[[str], list[str]], Callable[[str], str] | None]:
        from nltk.tokenize import RegexpTokenizer

        tokenize: Callable[[str], list[str]] = RegexpTokenizer(WORD_PATTERN).tokenize
        stem = None if self.stemmer == "none" else _stem_function(self.stemmer, self.cache_size)
        self._fast = (tokenize, stem)
        return self._fast

    def tokens(self, text: str) -> list[str]:
        """The normalised tokens of one message."""
        try:
            tokenize, stem = self._fast
        except AttributeError:
            tokenize, stem = self._build()
        lowered = text.lower()
        if self.placeholders:
            lowered = replace_placeholders(lowered)
        words = tokenize(lowered)
        return words if stem is None else [stem(w) for w in words]

    def normalise(self, text: str) -> str:
        """One message as the vectorizers see it: tokens joined by single spaces."""
        return " ".join(self.tokens(text))

    def fit(self, x: Any, y: Any = None) -> Self:
        return self

    def transform(self, x: Any) -> list[str]:
        return [self.normalise(t) for t in _texts(x)]

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_fast", None)  # NLTK objects and the stem cache are rebuilt on first use
        return state
