"""A/B test statistics: counters per arm, an always-valid sequential test, sample sizes.

Pure functions, no I/O: the evaluator consumer (`consumers.abtest`), the offline replay
(`spamops abtest replay`) and the simulations (`bench/abtest_eval.py`) share them
(docs/abtesting.md).
"""

from ml.abtest.analysis import (
    Design,
    Evidence,
    Reading,
    Verdict,
    Winner,
    look,
    planned_samples,
    read,
    ready,
)
from ml.abtest.counts import (
    ARMS,
    AbTestCounts,
    ArmCounts,
    PairCounts,
    labelled_fields,
    served_fields,
    shadow_fields,
)
from ml.abtest.offline import OfflineResult, offline_paired
from ml.abtest.planning import paired_prior, paired_sample_size, split_sample_size
from ml.abtest.simulation import SimulationResult, simulate_paired, simulate_split

__all__ = [
    "ARMS",
    "AbTestCounts",
    "ArmCounts",
    "Design",
    "Evidence",
    "OfflineResult",
    "PairCounts",
    "Reading",
    "SimulationResult",
    "Verdict",
    "Winner",
    "labelled_fields",
    "look",
    "offline_paired",
    "paired_prior",
    "paired_sample_size",
    "planned_samples",
    "read",
    "ready",
    "served_fields",
    "shadow_fields",
    "simulate_paired",
    "simulate_split",
    "split_sample_size",
]
