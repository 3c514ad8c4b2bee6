"""An A/B test without exposing anyone: two models' labels of recorded, labelled traffic.

Both models scored the same messages, so this is the shadow design: the same counters,
the same paired sequential test and the same reading as a live shadow test, looked at
every `step` messages in the order the labels came in. It also says after how many
messages a live shadow test would have stopped, and gives the exact McNemar p-value of
the whole set read once (valid here because the set is fixed before it is read).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import binomtest

from ml.abtest.analysis import Design, Evidence, Reading, look, read, ready
from ml.abtest.counts import AbTestCounts, PairCounts, labelled_fields, served_fields, shadow_fields
from schemas.common import Label

__all__ = ["OfflineResult", "offline_paired"]


@dataclass(frozen=True, slots=True)
class OfflineResult:
    counts: AbTestCounts
    reading: Reading
    stopped_at: int | None
    """Labelled messages after which a live shadow test would have concluded (None: not
    within these messages)."""
    stopped_verdict: str | None
    mcnemar_p: float


def offline_paired(
    truth: Sequence[Label],
    champion: Sequence[Label],
    challenger: Sequence[Label],
    design: Design,
    *,
    champion_ms: Sequence[float] = (),
    challenger_ms: Sequence[float] = (),
    step: int = 100,
) -> OfflineResult:
    """Counters, final reading and stopping point of a paired test on these messages."""
    if not (len(truth) == len(champion) == len(challenger)):
        raise ValueError("truth, champion and challenger must label the same messages")
    tally: Counter[str] = Counter()
    for i, (y, a, z) in enumerate(zip(truth, champion, challenger, strict=True)):
        tally.update(labelled_fields(y, "champion", a, z))
        tally.update(served_fields("champion", champion_ms[i] if champion_ms else 0.0))
        tally.update(shadow_fields(a, z, challenger_ms[i] if challenger_ms else 0.0))
    counts = AbTestCounts.from_hash(tally)
    if not (champion_ms and challenger_ms):  # no timings: report none rather than zeros
        counts = replace(
            counts,
            champion=replace(counts.champion, latency=()),
            challenger=replace(counts.challenger, latency=()),
        )
    t = np.array([x == "spam" for x in truth], dtype=bool)
    right_a = np.array([x == "spam" for x in champion], dtype=bool) == t
    right_z = np.array([x == "spam" for x in challenger], dtype=bool) == t
    only_a, only_z = np.cumsum(~right_a & right_z), np.cumsum(right_a & ~right_z)
    evidence = Evidence()
    stopped_at: int | None = None
    stopped_verdict: str | None = None
    n = len(truth)
    for k in [*range(step, n, step), n] if n else []:
        prefix = AbTestCounts(pair=PairCounts(n=k, b=int(only_a[k - 1]), c=int(only_z[k - 1])))
        if not ready(design, prefix):
            continue
        evidence = evidence.merge(look(design, prefix))
        verdict = read(design, prefix, evidence).verdict
        if stopped_at is None and verdict != "continue":
            stopped_at, stopped_verdict = k, verdict
    b, c = counts.pair.b, counts.pair.c
    mcnemar = 1.0 if b + c == 0 else min(1.0, float(binomtest(c, b + c, 0.5).pvalue))
    return OfflineResult(
        counts=counts,
        reading=read(design, counts, evidence),
        stopped_at=stopped_at,
        stopped_verdict=stopped_verdict,
        mcnemar_p=mcnemar,
    )
