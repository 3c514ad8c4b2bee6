"""What a test has seen, as counters: per arm quality and latency, and the paired errors.

The evaluator keeps every figure of a test as integer counters in one Redis hash, so any
member of its consumer group can add to it (HINCRBY) and read it back; this module names
the counter fields, says which ones a prediction or a labelled pair increments, and turns
a hash back into figures. Latency is a histogram of log-spaced buckets (5% wide), so its
median and 95th percentile come from counters too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.abtests import ArmStats
from schemas.common import Label, Variant

__all__ = [
    "ARMS",
    "AbTestCounts",
    "ArmCounts",
    "PairCounts",
    "labelled_fields",
    "latency_bucket",
    "served_fields",
    "shadow_fields",
]

ARMS: tuple[Variant, Variant] = ("champion", "challenger")
_LAT_FLOOR_MS = 0.001
_LAT_RATIO = 1.05


def latency_bucket(ms: float) -> int:
    """Index of the 5%-wide bucket holding `ms` (everything under 1 µs in bucket 0)."""
    return max(0, int(math.log(max(ms, _LAT_FLOOR_MS) / _LAT_FLOOR_MS) / math.log(_LAT_RATIO)))


def _bucket_ms(bucket: int) -> float:
    return float(_LAT_FLOOR_MS * _LAT_RATIO ** (bucket + 0.5))


def served_fields(variant: Variant, latency_ms: float) -> list[str]:
    """A prediction answered by `variant`."""
    return [f"{variant}:served", f"{variant}:lat:{latency_bucket(latency_ms)}"]


def shadow_fields(served: Label, shadow: Label, latency_ms: float) -> list[str]:
    """A shadow score of champion traffic; disagreements need no label to be counted."""
    fields = served_fields("challenger", latency_ms)
    if served != shadow:
        fields.append("shadow:disagree")
    return fields


def _quality(variant: Variant, truth: Label, label: Label) -> list[str]:
    fields = [f"{variant}:n", f"{variant}:{truth}"]
    if label != truth:
        fields.append(f"{variant}:err")
    if truth == "spam" and label == "spam":
        fields.append(f"{variant}:spam_hit")
    if truth == "ham" and label == "spam":
        fields.append(f"{variant}:ham_fp")
    return fields


def labelled_fields(
    truth: Label, variant: Variant, label: Label, shadow: Label | None
) -> list[str]:
    """A prediction whose true label came back (with the challenger's shadow label, if any)."""
    fields = _quality(variant, truth, label)
    if shadow is not None:
        fields += _quality("challenger", truth, shadow)
        fields.append("pair:n")
        if label != truth and shadow == truth:
            fields.append("pair:b")  # only the champion was wrong
        elif label == truth and shadow != truth:
            fields.append("pair:c")  # only the challenger was wrong
    return fields


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(frozen=True, slots=True)
class ArmCounts:
    n: int = 0
    errors: int = 0
    spam: int = 0
    spam_hit: int = 0
    ham: int = 0
    ham_fp: int = 0
    served: int = 0
    latency: tuple[tuple[int, int], ...] = ()
    """(bucket, count) pairs, sorted by bucket."""

    @property
    def error_rate(self) -> float:
        return self.errors / self.n if self.n else 0.0

    def latency_quantile(self, q: float) -> float | None:
        total = sum(c for _, c in self.latency)
        if not total:
            return None
        seen = 0
        for bucket, count in self.latency:
            seen += count
            if seen >= q * total:
                return round(_bucket_ms(bucket), 4)
        return round(_bucket_ms(self.latency[-1][0]), 4)

    def stats(self, variant: Variant, version: int) -> ArmStats:
        return ArmStats(
            variant=variant,
            model_version=version,
            n=self.n,
            errors=self.errors,
            error_rate=self.error_rate,
            spam_recall=_ratio(self.spam_hit, self.spam),
            ham_fpr=_ratio(self.ham_fp, self.ham),
            latency_p50_ms=self.latency_quantile(0.5),
            latency_p95_ms=self.latency_quantile(0.95),
            predictions=self.served,
        )


@dataclass(frozen=True, slots=True)
class PairCounts:
    """Labelled messages both models scored: b only the champion, c only the challenger
    got wrong."""

    n: int = 0
    b: int = 0
    c: int = 0


@dataclass(frozen=True, slots=True)
class AbTestCounts:
    champion: ArmCounts = ArmCounts()
    challenger: ArmCounts = ArmCounts()
    pair: PairCounts = PairCounts()
    disagree: int = 0
    """Shadow-scored predictions on which the two models disagree (labelled or not)."""

    def arm(self, variant: Variant) -> ArmCounts:
        return self.champion if variant == "champion" else self.challenger

    @property
    def discordance(self) -> float | None:
        """Share of shadow-scored traffic where the models disagree."""
        return _ratio(self.disagree, self.challenger.served)

    @classmethod
    def from_hash(cls, raw: Mapping[Any, bytes | str | int]) -> AbTestCounts:
        """From a Redis hash (bytes) or any mapping of field name to count."""
        flat = {_text(k): int(v) for k, v in raw.items()}

        def arm(v: Variant) -> ArmCounts:
            lat = sorted(
                (int(k.rsplit(":", 1)[1]), c) for k, c in flat.items() if k.startswith(f"{v}:lat:")
            )
            return ArmCounts(
                n=flat.get(f"{v}:n", 0),
                errors=flat.get(f"{v}:err", 0),
                spam=flat.get(f"{v}:spam", 0),
                spam_hit=flat.get(f"{v}:spam_hit", 0),
                ham=flat.get(f"{v}:ham", 0),
                ham_fp=flat.get(f"{v}:ham_fp", 0),
                served=flat.get(f"{v}:served", 0),
                latency=tuple(lat),
            )

        pair = PairCounts(n=flat.get("pair:n", 0), b=flat.get("pair:b", 0), c=flat.get("pair:c", 0))
        return cls(arm("champion"), arm("challenger"), pair, flat.get("shadow:disagree", 0))


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key
