"""Cost of serving a learned policy: LearnedCache vs cachetools.LRUCache on a real trace.

One process, the same replay loop for both (``cache[key]``, on KeyError ``cache[key] =
key``), capacities 1% and 10% of the trace's distinct objects. Prints each cache's
operations (requests) per CPU-second, the ratio LearnedCache / LRUCache (median of
``--repeat`` alternating runs), the hit ratios, and the wall time per eviction: p50 and p99
of the ``cache[key] = key`` calls that evicted (a separate timed pass, so the per-call
timer does not slow the ops/s runs), and the policy's own share from ``stats``.
Targets (issue 16): ratio >= 0.2, p99 <= 50 µs. Usage:

    python bench/serve.py [--trace PATH] [--requests N] [--repeat R] [--policy P]
                          [--engine auto|compiled|reference] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import LRUCache

from rlcache.cache.readers import read_trace
from rlcache.policy import load_policy, resolve_policy
from rlcache.serve import LearnedCache

DEFAULT_TRACE = "/work/shared/traces/cloudPhysicsIO.oracleGeneral.bin.zst"


def replay(cache: Any, keys: list[int]) -> float:
    """CPU seconds of this process to replay ``keys`` through ``cache`` (lookup, insert
    on a miss): on a shared machine, other jobs' load moves it far less than wall time."""
    t0 = time.process_time()
    for k in keys:
        try:
            cache[k]
        except KeyError:
            cache[k] = k
    return time.process_time() - t0


def eviction_times(cache: LearnedCache, keys: list[int]) -> np.ndarray:
    """Seconds of each insertion that evicted (the whole ``cache[key] = key`` call)."""
    out = []
    clock = time.perf_counter
    for k in keys:
        try:
            cache[k]
        except KeyError:
            full = len(cache) >= cache.maxsize
            t0 = clock()
            cache[k] = k
            if full:
                out.append(clock() - t0)
    return np.asarray(out)


def measure(keys: list[int], cap: int, policy: Any, repeat: int,
            engine: str = "auto") -> dict[str, Any]:
    """ops/s of both caches (alternating runs, medians), hit ratios, eviction times."""
    lru_t, ours_t = [], []
    for _ in range(repeat):
        lru = LRUCache(cap)
        lru_t.append(replay(lru, keys))
        ours = LearnedCache(cap, policy, engine=engine)
        ours_t.append(replay(ours, keys))
    lru_hits = 0
    counted = LRUCache(cap)
    for k in keys:
        if k in counted:
            lru_hits += 1
            counted[k]
        else:
            counted[k] = k
    timed = LearnedCache(cap, policy, engine=engine)
    ev = eviction_times(timed, keys)
    s = ours.stats
    n = len(keys)
    return {"capacity": cap, "requests": n,
            "lru_ops": n / statistics.median(lru_t), "ours_ops": n / statistics.median(ours_t),
            "ratio": statistics.median(lru_t) / statistics.median(ours_t),
            "lru_hit_ratio": lru_hits / n, "ours_hit_ratio": s.hits / n,
            "evictions": len(ev), "p50_us": float(np.percentile(ev, 50) * 1e6),
            "p99_us": float(np.percentile(ev, 99) * 1e6),
            "policy_us_per_decision": s.policy_seconds / max(1, s.decisions) * 1e6,
            "lru_runs_s": lru_t, "ours_runs_s": ours_t}


def main() -> None:
    """Run both capacities and print one table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trace", default=DEFAULT_TRACE)
    ap.add_argument("--requests", type=int, default=50_000, help="first N requests")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--policy", default="pretrained")
    ap.add_argument("--engine", default="auto", choices=["auto", "compiled", "reference"])
    ap.add_argument("--json", metavar="OUT", help="also write the rows as JSON")
    args = ap.parse_args()
    trace = read_trace(args.trace).slice(0, args.requests)
    policy = load_policy(resolve_policy(args.policy))
    keys = trace.ids.tolist()
    distinct = trace.n_objects
    engine_name = type(LearnedCache(2, policy, engine=args.engine)._engine).__name__
    print(f"{Path(args.trace).name}: {len(keys)} requests, {distinct} objects; policy "
          f"{args.policy} ({len(policy.candidates)} candidates, "
          f"{policy.decisions['features']}); engine {engine_name}; "
          f"median of {args.repeat} alternating runs")
    print(f"{'size':>11} {'LRUCache ops/s':>15} {'Learned ops/s':>14} {'ratio':>6} "
          f"{'LRU hit':>8} {'ours hit':>8} {'p50 µs':>7} {'p99 µs':>7} {'policy µs':>9}")
    rows = []
    for frac in (0.01, 0.10):
        cap = max(1, round(frac * distinct))
        r = measure(keys, cap, policy, args.repeat, args.engine)
        rows.append({"fraction": frac, **r})
        print(f"{frac:>4.0%} {cap:>6} {r['lru_ops']:>15,.0f} {r['ours_ops']:>14,.0f} "
              f"{r['ratio']:>6.3f} {r['lru_hit_ratio']:>8.4f} {r['ours_hit_ratio']:>8.4f} "
              f"{r['p50_us']:>7.1f} {r['p99_us']:>7.1f} {r['policy_us_per_decision']:>9.1f}")
    print("targets: ratio >= 0.200, p99 <= 50 µs")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
