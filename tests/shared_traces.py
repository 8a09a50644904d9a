"""Where the four real traces of ``../shared/traces`` are, from the main checkout or a worktree."""

from __future__ import annotations

import os
from pathlib import Path

from rlcache.cache import Trace, generate, read_trace

_ROOT = Path(__file__).resolve().parents[1]


def shared_traces() -> Path | None:
    """The shared traces folder (``$RLCACHE_SHARED_TRACES`` first), or None when absent."""
    env = os.environ.get("RLCACHE_SHARED_TRACES")
    candidates = [Path(env)] if env else []
    candidates += [_ROOT.parent / "shared" / "traces", _ROOT.parents[1] / "shared" / "traces"]
    return next((c for c in candidates if (c / "README.md").exists()), None)


#: Stand-ins where the shared traces are absent: workloads with the real traces' traits (a
#: scan-heavy block trace, a skewed web one, a shifting key-value one, a phased database).
STAND_INS = {"cloudPhysicsIO": "zipf_scan", "cache2k_web12": "zipf", "twitter_c52": "shift",
             "arc_oltp": "phased"}


def real_or_stand_in(name: str, n: int) -> Trace:
    """The first ``n`` requests of a shared real trace, or of its generated stand-in."""
    root = shared_traces()
    if root is None:
        return generate(STAND_INS[name], n_requests=n, n_objects=max(n // 4, 100), seed=7)
    return read_trace(root / f"{name}.oracleGeneral.bin.zst").slice(0, n)
