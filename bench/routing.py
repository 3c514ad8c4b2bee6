"""A/B routing cost: one decision must stay ≤ 10 µs (it runs on every request in a test)."""

from __future__ import annotations

import time
import uuid

from bench.harness import machine, parse_args, percentile, write_result


def main() -> None:
    from api.abtests import arm

    args = parse_args(__doc__ or "")
    n = 50_000 if args.quick else 500_000
    test_id = str(uuid.uuid4())
    keys = [f"client-{i}" for i in range(n)]
    samples = []
    for key in keys[:20_000]:
        t0 = time.perf_counter_ns()
        arm(test_id, key, 0.2)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    started = time.perf_counter()
    share = sum(arm(test_id, k, 0.2) == "challenger" for k in keys) / n
    per_decision = (time.perf_counter() - started) / n * 1e6
    result = {
        "keys": n,
        "challenger_share": round(share, 4),
        "target_share": 0.2,
        "mean_us": round(per_decision, 3),
        "p50_us": round(percentile(samples, 50), 3),
        "p99_us": round(percentile(samples, 99), 3),
        "target_us": 10,
        "machine": machine(),
        "quick": args.quick,
    }
    for key in ("keys", "challenger_share", "mean_us", "p50_us", "p99_us"):
        print(f"{key:<17} {result[key]}")
    write_result("routing", result)


if __name__ == "__main__":
    main()
