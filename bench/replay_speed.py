"""Whole-trace replay speed: the learned policy (compiled engine) beside our LRU and
libCacheSim's LRU, same traces, same capacities, one process, one core.

For each oracleGeneral trace (``.zst`` read as it is) and each capacity (a fraction of the
trace's distinct objects) it times three replays of all the requests and prints requests/s
and the ratios:

- ``agent``: a 16-candidate extended-feature policy (default:
  ``tests/policy/trained_extended.npz``, trained with configs/cache_mixed.yaml, the
  ``pretrained`` policy shipped until the general one, which has history features)
  through :class:`rlcache.engine.Engine`,
  what ``rlcache evaluate`` runs; the timing is ``Engine.replay`` alone (the trace is read
  and the kernel loaded before).
- ``LRU``: ``rlcache.cache.simulate(trace, "LRU", cap)`` on the same in-memory trace.
- ``lcs LRU``: ``libcachesim.LRU(cap).process_trace`` over the file, sizes ignored
  (its time includes reading and decompressing the file, as libCacheSim always does).

Each figure is the median of ``--repeat`` runs by the wall clock; ``(cpu)`` is the agent's
by process CPU time (the best and all times are in ``--json``). Usage:

    python bench/replay_speed.py [--traces DIR] [--fractions 0.01,0.1] [--repeat 3]
                                 [--policy FILE.npz] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from rlcache.cache import read_trace, simulate
from rlcache.engine import Engine, Scorer

_HERE = Path(__file__).resolve()
#: The extended-feature policy these figures are measured with (the earlier ``pretrained``)
EXTENDED_POLICY = _HERE.parents[1] / "tests" / "policy" / "trained_extended.npz"


def _default_traces() -> Path | None:
    env = os.environ.get("RLCACHE_SHARED_TRACES")
    found = [Path(env)] if env else []
    found += [p / "shared" / "traces" for p in (_HERE.parents[2], _HERE.parents[3])]
    return next((p for p in found if p.is_dir()), None)


def _times(fn: Any, repeat: int) -> tuple[list[float], list[float], Any]:
    """Wall and CPU seconds of ``repeat`` calls (CPU time: what one core spent, which a
    shared machine's other processes inflate less than the wall clock)."""
    out, wall, cpu = None, [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, out


def _engine_for(policy: Any, cap: int, trace: Any) -> Engine:
    dec = policy.decisions
    ghost = dec["ghost_size"]
    ghost = max(0, round(dec["ghost_factor"] * cap)) if ghost is None else int(ghost)
    return Engine(cap, dec["candidates"], Scorer(policy.network.layers),
                  features=dec["features"], seed=int(dec["seed"]), ghost_size=ghost,
                  half_life=float(dec["dfreq_half_life"]) * cap, decay=float(dec["decay"]),
                  n_objects=trace.index_size, horizon=len(trace))


def bench_trace(path: Path, policy: Any, fractions: list[float], repeat: int) -> list[dict]:
    """One row per capacity: requests/s of the three replays and their hit ratios."""
    import libcachesim as lcs

    from rlcache.serve.libcachesim import unit_size_reader

    trace = read_trace(path)
    n = len(trace)
    rows = []
    for frac in fractions:
        cap = max(1, round(frac * trace.n_objects))
        simulate(trace, "LRU", cap)  # the dense ids and compiled code, ready before timing

        def agent(c: int = cap) -> int:
            return _engine_for(policy, c, trace).replay(trace.object_index)

        def lru(c: int = cap) -> int:
            return simulate(trace, "LRU", c).hits

        def lcs_lru(c: int = cap) -> float:
            return lcs.LRU(c).process_trace(unit_size_reader(path))[0]

        t_agent, c_agent, agent_hits = _times(agent, repeat)
        t_lru, c_lru, lru_hits = _times(lru, repeat)
        t_lcs, c_lcs, lcs_miss = _times(lcs_lru, repeat)
        med = {k: statistics.median(v) for k, v in
               (("agent", t_agent), ("lru", t_lru), ("lcs", t_lcs), ("agent_cpu", c_agent),
                ("lru_cpu", c_lru), ("lcs_cpu", c_lcs))}
        rows.append({
            "trace": path.name.split(".")[0], "requests": n, "capacity": cap,
            "fraction": frac,
            "agent_rps": n / med["agent"], "lru_rps": n / med["lru"], "lcs_rps": n / med["lcs"],
            "agent_cpu_rps": n / med["agent_cpu"], "lru_cpu_rps": n / med["lru_cpu"],
            "lcs_cpu_rps": n / med["lcs_cpu"],
            "agent_rps_best": n / min(t_agent), "agent_seconds": t_agent,
            "agent_hit_ratio": agent_hits / n, "lru_hit_ratio": lru_hits / n,
            "lcs_lru_hit_ratio": 1.0 - lcs_miss,
        })
    return rows


def _print(rows: list[dict], header: bool) -> None:
    if header:
        print(f"{'trace':<16}{'cap':>8}{'agent req/s':>14}{'(cpu)':>10}{'LRU req/s':>14}"
              f"{'lcs LRU req/s':>15}{'agent/lcs':>11}{'agent/LRU':>11}{'agent hit':>11}"
              f"{'LRU hit':>9}")
    for r in rows:
        print(f"{r['trace']:<16}{r['capacity']:>8}{r['agent_rps']:>14,.0f}"
              f"{r['agent_cpu_rps']:>10,.0f}{r['lru_rps']:>14,.0f}"
              f"{r['lcs_rps']:>15,.0f}{r['agent_rps'] / r['lcs_rps']:>10.1%}"
              f"{r['agent_rps'] / r['lru_rps']:>10.1%}{r['agent_hit_ratio']:>11.4f}"
              f"{r['lru_hit_ratio']:>9.4f}", flush=True)


def main() -> None:
    """Run every trace and capacity; print one table (and write --json)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--traces", type=Path, default=_default_traces(),
                    help="folder of *.oracleGeneral[.bin][.zst] traces")
    ap.add_argument("--fractions", default="0.01,0.1")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--policy", default=str(EXTENDED_POLICY))
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    if args.traces is None or not args.traces.is_dir():
        ap.error("no traces folder: pass --traces DIR (or set RLCACHE_SHARED_TRACES)")
    from rlcache.policy import load_policy, resolve_policy

    policy = load_policy(resolve_policy(args.policy))
    dec = policy.decisions
    fractions = [float(f) for f in args.fractions.split(",")]
    paths = sorted(p for p in args.traces.iterdir() if ".oracleGeneral" in p.name)
    print(f"policy {args.policy}: {len(dec['candidates'])} candidates, {dec['features']} "
          f"features; median of {args.repeat} runs each; one process, one thread")
    _engine_for(policy, 8, read_trace(paths[0]).slice(0, 100)).replay([1, 2])  # load kernel
    rows = []
    for path in paths:
        got = bench_trace(path, policy, fractions, args.repeat)
        _print(got, header=not rows)
        rows += got
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
