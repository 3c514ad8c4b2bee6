"""Text normalisation: placeholders, lower case, NLTK tokenising and stemming.

`Tokenizer` is the code every path shares: the `TextNormalizer` pipeline step (training),
the fast scorer and the drift features (serving) all call its `tokens()`. It lives apart
from the sklearn step so that serving imports NLTK but not scikit-learn. Nothing here
downloads NLTK data: `RegexpTokenizer` and the Porter/Snowball stemmers are pure code.
NLTK objects are built on first use; stems are memoised in a bounded LRU cache, which
makes a warm normalisation cost about 20 µs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "PLACEHOLDERS",
    "WORD_PATTERN",
    "NormalizerConfig",
    "Stemmer",
    "Tokenizer",
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


class Tokenizer:
    """Message -> normalised tokens: placeholders, lower case, NLTK tokens, stems."""

    __slots__ = ("_stem", "_tokenize", "placeholders", "stemmer")

    def __init__(
        self, stemmer: Stemmer = "porter", placeholders: bool = True, cache_size: int = 100_000
    ) -> None:
        from nltk.tokenize.regexp import RegexpTokenizer

        self.stemmer: Stemmer = stemmer
        self.placeholders = placeholders
        self._tokenize: Callable[[str], list[str]] = RegexpTokenizer(WORD_PATTERN).tokenize
        self._stem = None if stemmer == "none" else _stem_function(stemmer, cache_size)

    @classmethod
    def from_config(cls, config: NormalizerConfig) -> Tokenizer:
        return cls(stemmer=config.stemmer, placeholders=config.placeholders)

    def config(self) -> NormalizerConfig:
        return NormalizerConfig(stemmer=self.stemmer, placeholders=self.placeholders)

    def tokens(self, text: str) -> list[str]:
        """The normalised tokens of one message."""
        lowered = text.lower()
        if self.placeholders:
            lowered = replace_placeholders(lowered)
        words = self._tokenize(lowered)
        stem = self._stem
        return words if stem is None else [stem(w) for w in words]

    def normalise(self, text: str) -> str:
        """One message as the vectorizers see it: tokens joined by single spaces."""
        return " ".join(self.tokens(text))
