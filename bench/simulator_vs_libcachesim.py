"""Whole-trace simulation speed of rlcache.cache against libCacheSim's process_trace.

One process, same trace (Zipf 0.9, default 1M requests over 100k objects), capacities 1%
and 10% of distinct objects. For each policy it prints requests/s of both, the ratio
ours/theirs (best of ``--repeat`` runs each, to damp noise on shared machines) and both
hit ratios. Our timing starts from a fresh ``Trace`` built from the ids array, so it
includes the one-time dense-id and next-access preparation; libCacheSim's includes
reading its oracleGeneral file. Usage:

    python bench/simulator_vs_libcachesim.py [--requests N] [--objects M] [--repeat R]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rlcache.cache import Trace, generate, simulate, write_oracle_general

LCS = {"LRU": "LRU", "FIFO": "FIFO", "LFU": "LFU", "ARC": "ARC", "BELADY": "Belady"}


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    """Run the comparison and print one table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--policies", default="LRU,FIFO,LFU,ARC,BELADY")
    args = ap.parse_args()
    import libcachesim as lcs

    base = generate("zipf", n_requests=args.requests, n_objects=args.objects, alpha=args.alpha)
    n, n_obj = len(base), base.n_objects
    print(
        f"zipf({args.alpha}) {n} requests, {args.objects} objects ({n_obj} requested);"
        f" capacity = 1% and 10% of {args.objects}; best of {args.repeat}"
    )
    header = (
        f"{'policy':<8}{'cap':>8}{'ours req/s':>14}{'lcs req/s':>14}{'ratio':>8}"
        f"{'ours hit':>10}{'lcs hit':>10}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "zipf.oracleGeneral")
        write_oracle_general(base, path, unit_size=True)
        for frac in (0.01, 0.1):
            cap = max(1, int(frac * args.objects))
            for policy in args.policies.split(","):
                ours_t, res = _best(
                    lambda p=policy, c=cap: simulate(Trace(base.ids, name="zipf"), p, c),
                    args.repeat,
                )

                def run_lcs(p: str = policy, c: int = cap) -> float:
                    reader = lcs.TraceReader(path, lcs.TraceType.ORACLE_GENERAL_TRACE)
                    return getattr(lcs, LCS[p])(c).process_trace(reader)[0]

                lcs_t, miss = _best(run_lcs, args.repeat)
                print(
                    f"{policy:<8}{cap:>8}{n / ours_t:>14,.0f}{n / lcs_t:>14,.0f}"
                    f"{lcs_t / ours_t:>8.2f}{res.hit_ratio:>10.4f}{1 - miss:>10.4f}"
                )


if __name__ == "__main__":
    main()
