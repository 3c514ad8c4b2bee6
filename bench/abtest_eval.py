"""A/B test statistics (issue 7): false winners of A/A tests read every 100 samples, and the
power reached at the planned sample size, from seeded simulations (`ml.abtest.simulation`).

- A/A: both arms at the same error rate; the test is read every 100 labelled samples up to
  50,000; a run that ever declares a winner is a false winner. Beside it, a fixed-sample
  test (two-proportion z-test, or exact McNemar when paired) read at the same looks.
- A/B: error rates 3% and 2% (the minimum effect, 0.01), either way round; each run goes up
  to the planned sample size (power 0.8, the default, and 0.95); reported: the share of
  runs that declared the better arm, the worse arm, and when they stopped. Also a larger
  effect (4% vs 2%) to show how early the test stops when the difference is bigger.

Split design: 20% of traffic to the challenger, `min_samples` per arm as given. Paired
(shadow) design: both models on every message, half of the smaller error rate shared.
Targets: A/A false winners <= alpha (0.05); better arm >= 95% at the planned size (plan for
power 0.95), and at least the planned power for the default plan.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/abtest_eval.py`
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import math
import time
from typing import Any

from scipy.stats import norm

from bench.harness import machine, parse_args, write_result
from ml.abtest import (
    SimulationResult,
    paired_prior,
    paired_sample_size,
    simulate_paired,
    simulate_split,
    split_sample_size,
)

ALPHA, MIN_EFFECT, SPLIT, BASELINE = 0.05, 0.01, 0.2, 0.02
HORIZON = 50_000


def wilson_upper(rate: float, n: int, z: float = 1.96) -> float:
    """Upper end of the 95% Wilson interval of a rate measured on n runs."""
    centre = rate + z * z / (2 * n)
    spread = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return round((centre + spread) / (1 + z * z / n), 4)


def fixed_sample_size(pa: float, pb: float, power: float) -> int:
    """Total n of a fixed-sample two-proportion z-test read once (for comparison)."""
    z = norm.ppf(1 - ALPHA / 2) + norm.ppf(power)
    var = pa * (1 - pa) / (1 - SPLIT) + pb * (1 - pb) / SPLIT
    return math.ceil(float(z * z * var / (pb - pa) ** 2))


def _aa(r: SimulationResult) -> dict[str, Any]:
    return {
        "runs": r.runs,
        "false_winners": r.winners,
        "false_winners_upper95": wilson_upper(r.winners, r.runs),
        "false_challenger_wins": r.challenger_wins,
        "false_champion_wins": r.champion_wins,
        "naive_peeking_false_winners": r.naive_winners,
    }


def _ab(r: SimulationResult, challenger_better: bool, planned: int) -> dict[str, Any]:
    better = r.challenger_wins if challenger_better else r.champion_wins
    worse = r.champion_wins if challenger_better else r.challenger_wins
    return {
        "runs": r.runs,
        "planned_samples": planned,
        "better_arm_wins": better,
        "worse_arm_wins": worse,
        "median_stop": r.median_stop,
    }


def evaluate(quick: bool) -> dict[str, Any]:
    aa_runs, ab_runs = (2000, 1000) if quick else (20_000, 5000)
    prior = paired_prior(MIN_EFFECT, BASELINE)
    out: dict[str, Any] = {"aa": {}, "ab": {}, "plans": {}}
    for error in (0.02, 0.05, 0.10):
        for min_samples in (100, 1000):
            r = simulate_split(
                error,
                error,
                split=SPLIT,
                samples=HORIZON,
                runs=aa_runs,
                min_samples=min_samples,
                seed=1,
            )
            out["aa"][f"split error={error} min_samples={min_samples}"] = _aa(r)
    for error, both in ((0.02, 0.01), (0.05, 0.025)):
        r = simulate_paired(
            error,
            error,
            both,
            samples=HORIZON,
            runs=aa_runs,
            prior=prior,
            min_samples=100,
            seed=2,
        )
        out["aa"][f"paired error={error} both_wrong={both} min_samples=100"] = _aa(r)
    for power in (0.8, 0.95):
        n = split_sample_size(BASELINE, MIN_EFFECT, SPLIT, ALPHA, power)
        out["plans"][f"split power={power}"] = {
            "sequential": n,
            "fixed_sample_read_once": fixed_sample_size(0.02, 0.03, power),
        }
        for pa, pb in ((0.03, 0.02), (0.02, 0.03)):
            r = simulate_split(
                pa, pb, split=SPLIT, samples=n, runs=ab_runs, min_samples=1000, seed=3
            )
            out["ab"][f"split {pa} vs {pb} plan power={power}"] = _ab(r, pb < pa, n)
        for pa, pb in ((0.03, 0.02), (0.02, 0.03)):
            both = min(pa, pb) / 2
            m = paired_sample_size(pa + pb - 2 * both, MIN_EFFECT, ALPHA, power, prior)
            out["plans"][f"paired {pa} vs {pb} power={power}"] = {"sequential": m}
            r = simulate_paired(
                pa, pb, both, samples=m, runs=ab_runs, prior=prior, min_samples=1000, seed=4
            )
            out["ab"][f"paired {pa} vs {pb} plan power={power}"] = _ab(r, pb < pa, m)
    n = split_sample_size(BASELINE, MIN_EFFECT, SPLIT, ALPHA, 0.8)
    r = simulate_split(0.04, 0.02, split=SPLIT, samples=n, runs=ab_runs, min_samples=1000, seed=5)
    out["ab"]["split 0.04 vs 0.02 plan power=0.8 (twice the minimum effect)"] = _ab(r, True, n)
    return out


def _print(result: dict[str, Any]) -> None:
    print(f"A/A, read every 100 samples up to {HORIZON} (alpha {ALPHA}):")
    for name, r in result["aa"].items():
        print(
            f"  {name:<45} false winners {r['false_winners']:.4f} "
            f"(95% upper {r['false_winners_upper95']:.4f}; "
            f"challenger {r['false_challenger_wins']:.4f})"
            f"  naive peeking {r['naive_peeking_false_winners']:.3f}"
        )
    print("A/B at the planned sample size:")
    for name, r in result["ab"].items():
        print(
            f"  {name:<62} n={r['planned_samples']:>6} better {r['better_arm_wins']:.3f} "
            f"worse {r['worse_arm_wins']:.3f} median stop {r['median_stop']}"
        )
    for name, plan in result["plans"].items():
        print(f"  plan {name:<30} {plan}")


def main() -> None:
    args = parse_args(__doc__ or "")
    started = time.perf_counter()
    result = evaluate(args.quick)
    result |= {
        "alpha": ALPHA,
        "min_effect": MIN_EFFECT,
        "split": SPLIT,
        "horizon": HORIZON,
        "look_every": 100,
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }
    _print(result)
    write_result("abtest", result)


if __name__ == "__main__":
    main()
