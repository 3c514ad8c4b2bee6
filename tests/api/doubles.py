"""An in-memory model and registry with the API's protocols, for unit tests only.

Integration tests use the real MLflow registry and the compiled scorer instead.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ml.errors import ModelNotFoundError, NoPreviousChampionError
from ml.features import message_features
from ml.serving import Analysis
from schemas.common import Label, ModelRef


@dataclass(frozen=True)
class KeywordModel:
    version: int
    spam_words: tuple[str, ...] = ("win", "prize", "free", "claim")

    @property
    def ref(self) -> ModelRef:
        return ModelRef(name="spam-classifier", version=self.version, alias="champion")

    def score(self, text: str) -> float:
        hits = sum(w in text.lower() for w in self.spam_words)
        return min(0.05 + 0.3 * hits, 0.99)

    def score_batch(self, texts: Sequence[str]) -> list[float]:
        return [self.score(t) for t in texts]

    def label(self, probability: float) -> Label:
        return "spam" if probability >= 0.5 else "ham"

    def analyse(self, text: str) -> Analysis:
        hashes, shape = message_features(text)
        return Analysis(self.score(text), hashes, shape)


@dataclass
class VersionInfo:
    name: str
    version: int
    aliases: list[str]
    created_at: datetime
    run_id: str
    metrics: dict[str, float]


@dataclass
class MemoryRegistry:
    versions_available: list[int] = field(default_factory=lambda: [1, 2])
    champion: int | None = 1
    history: list[int] = field(default_factory=list)
    load_delay_s: float = 0.0
    words: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Spam words per version: lets a test make one version better than another."""
    loads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, alias: str = "champion") -> KeywordModel:
        if self.champion is None:
            raise ModelNotFoundError("no champion")
        return self.load_version(self.champion)

    def load_version(self, version: int) -> KeywordModel:
        if version not in self.versions_available:
            raise ModelNotFoundError(f"no version {version}")
        if self.load_delay_s:
            threading.Event().wait(self.load_delay_s)
        with self.lock:
            self.loads += 1
        return KeywordModel(version, self.words.get(version, KeywordModel.spam_words))

    def versions(self) -> list[VersionInfo]:
        return [
            VersionInfo(
                "spam-classifier",
                v,
                ["champion"] if v == self.champion else [],
                datetime.now(UTC),
                f"run-{v}",
                {"mcc": 0.97},
            )
            for v in sorted(self.versions_available, reverse=True)
        ]

    def champion_version(self) -> int | None:
        return self.champion

    def promote(self, version: int) -> int | None:
        if version not in self.versions_available:
            raise ModelNotFoundError(f"no version {version}")
        previous = self.champion
        if previous is not None:
            self.history.append(previous)
        self.champion = version
        return previous

    def rollback(self) -> tuple[int, int]:
        if not self.history or self.champion is None:
            raise NoPreviousChampionError("nothing to roll back to")
        current, self.champion = self.champion, self.history.pop()
        return current, self.champion
