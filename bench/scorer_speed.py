"""The engine's candidate scorer alone: time per decision on recorded observations.

Replays a real trace with a trained 16-candidate extended policy through
:class:`rlcache.engine.Engine`, keeps the first ``--decisions`` observations, then times
``_scorer._choose_with`` over them in one compiled loop, on the [64, 64] pair path and on
the one-candidate path (scratch too small for pairs), checking that both choose the same
candidates. CPU time of the process, best of ``--repeat``. Usage:

    python bench/scorer_speed.py [--trace PATH] [--fraction 0.1] [--decisions 20000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from numba import njit

from rlcache.cache import read_trace
from rlcache.engine import Engine, Scorer
from rlcache.engine._scorer import SCRATCH, _choose_with
from rlcache.policy import load_policy
from rlcache.serve.reference import ghost_size

_ROOT = Path(__file__).resolve().parents[1]
_NAME = "cloudPhysicsIO.oracleGeneral.bin.zst"
_TRACE = next((p / "shared" / "traces" / _NAME for p in (_ROOT.parent, _ROOT.parents[1])
               if (p / "shared" / "traces" / _NAME).exists()), Path(_NAME))


@njit(cache=True)
def _choose_all(obs_rows, nf, net, bias, sizes, scratch):
    kk = (obs_rows.shape[1] - 4) // nf
    w = net.shape[2]
    cands = np.arange(kk)
    gpart = np.empty(w, np.float32)
    h0, h1 = np.empty(scratch * w, np.float32), np.empty(scratch * w, np.float32)
    q, act = np.empty(kk, np.float32), np.empty(scratch * max(nf, w), np.int64)
    out = np.empty(obs_rows.shape[0], np.int64)
    for r in range(obs_rows.shape[0]):
        out[r] = _choose_with(cands, obs_rows[r], nf, net, bias, sizes, gpart, h0, h1, q, act)
    return out


def main() -> None:
    """Record the observations, time both paths, print ns per decision."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trace", type=Path, default=_TRACE)
    ap.add_argument("--policy", type=Path, default=_ROOT / "tests" / "policy"
                    / "trained_extended.npz")
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--decisions", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    policy = load_policy(args.policy)
    dec, sc = policy.decisions, Scorer(policy.network.layers)
    trace = read_trace(args.trace)
    cap = max(1, round(args.fraction * trace.n_objects))
    eng = Engine(cap, dec["candidates"], sc, seed=int(dec["seed"]), ghost_size=ghost_size(dec, cap),
                 half_life=float(dec["dfreq_half_life"]) * cap, n_objects=trace.index_size,
                 horizon=len(trace))
    eng.replay(trace.object_index[: 20 * args.decisions], record_obs=args.decisions)
    obs = np.ascontiguousarray(eng.observations)
    nf = (obs.shape[1] - 4) // len(dec["candidates"])
    got = {}
    for name, scratch in (("pairs", SCRATCH), ("one at a time", 1)):
        _choose_all(obs[:2], nf, sc.net, sc.bias, sc.sizes, scratch)
        best = float("inf")
        for _ in range(args.repeat):
            c0 = time.process_time()
            got[name] = _choose_all(obs, nf, sc.net, sc.bias, sc.sizes, scratch)
            best = min(best, time.process_time() - c0)
        print(f"{name:>14}: {best / len(obs) * 1e9:7.0f} ns per {len(dec['candidates'])}-"
              f"candidate decision ({len(obs)} decisions, sizes {sc.sizes.tolist()})")
    print("same choices:", bool(np.array_equal(got["pairs"], got["one at a time"])))


if __name__ == "__main__":
    main()
