"""Observation features of the cache env: 8 per eviction candidate, then 4 global ones.

Every value lies in [0, 1]. A time ``v`` (in requests) reads ``u / (u + 1)`` with
``u = log1p(v / capacity)``, so the features mean the same thing at any cache size and
trace length and keep their resolution over orders of magnitude (a recency of 0.1, 1, 10
and 100 capacities reads 0.09, 0.41, 0.71 and 0.82). Nothing here reads
``CacheState.next_use``: that is the future, for reward shaping only.

Per candidate (in this order, see ``CANDIDATE_FEATURES``):

0. ``recency``       requests since its last access
1. ``hits``          accesses since it was inserted, minus the insertion (0 = never hit)
2. ``count``         accesses in the window so far, history before eviction included
3. ``age``           requests since it was inserted
4. ``last_gap``      the gap between its last two accesses (1.0 when seen only once)
5. ``mean_gap``      its mean inter-arrival gap in the window (1.0 when seen only once)
6. ``rate_gap``      requests per access since its first access, current wait included
7. ``returns``       times it came back while in the ghost list (evicting it was a mistake)

Globals: ``hit_ratio`` (recent, decayed per decision), ``new_miss`` (recent share of
misses that are first requests), ``ghost_miss`` (recent share of misses on recently
evicted objects: high under loops and scans that LRU mishandles), ``progress`` through
the episode.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from math import log1p

import numpy as np

from rlcache.cache.state import CacheState

CANDIDATE_FEATURES: tuple[str, ...] = (
    "recency", "hits", "count", "age", "last_gap", "mean_gap", "rate_gap", "returns",
)
GLOBAL_FEATURES: tuple[str, ...] = ("hit_ratio", "new_miss", "ghost_miss", "progress")
N_CANDIDATE = len(CANDIDATE_FEATURES)
N_GLOBAL = len(GLOBAL_FEATURES)


def feature_names(n_candidates: int) -> list[str]:
    """Names of the observation's entries: ``c0.recency`` ... then the globals."""
    names = [f"c{j}.{f}" for j in range(n_candidates) for f in CANDIDATE_FEATURES]
    return names + list(GLOBAL_FEATURES)


class FeatureBuilder:
    """Fills one preallocated float32 observation per decision from a ``CacheState``."""

    def __init__(self, n_candidates: int, capacity: int, decay: float = 0.99) -> None:
        self.k = int(n_candidates)
        self.dim = self.k * N_CANDIDATE + N_GLOBAL
        self.scale = float(capacity)
        self.decay = float(decay)
        self._arr = array("f", bytes(4 * self.dim))
        self.obs = np.frombuffer(self._arr, dtype=np.float32)
        self.reset(0, 1)

    def __getstate__(self) -> dict[str, object]:
        """Pickle / deepcopy state without the numpy view of the buffer."""
        return {k: v for k, v in self.__dict__.items() if k != "obs"}

    def __setstate__(self, state: dict[str, object]) -> None:
        """Restore, viewing the restored buffer."""
        self.__dict__.update(state)
        self.obs = np.frombuffer(self._arr, dtype=np.float32)

    def reset(self, t0: int, horizon: int, hits: int = 0) -> None:
        """Start an episode whose agent part begins at window time ``t0`` for ``horizon``."""
        self.t0 = int(t0)
        self.horizon = max(1, int(horizon))
        self._last_t = self.t0
        self._last_hits = int(hits)
        self._h = self._r = self._new = self._ghost = self._misses = 0.0
        for i in range(self.dim):
            self._arr[i] = 0.0

    def observe(self, st: CacheState, cands: Sequence[int]) -> np.ndarray:
        """Update the globals with the requests served since the last call; fill ``obs``."""
        d = self.decay
        t = st.t
        x = st._pending
        self._h = d * self._h + (st.hits - self._last_hits)
        self._r = d * self._r + (t - self._last_t + 1)
        self._misses = d * self._misses + 1.0
        self._new = d * self._new + (st.count[x] == 0)
        self._ghost = d * self._ghost + (x in st.ghost)
        self._last_hits = st.hits
        self._last_t = t + 1
        a = self._arr
        c = self.scale
        last, freq, count = st.last_access, st.freq, st.count
        first, ins, gap, ret = st.first_access, st.insert_time, st.last_gap, st.returns
        i = 0
        for y in cands:
            n = count[y]
            u = log1p((t - last[y]) / c)
            a[i] = u / (u + 1.0)
            f = freq[y] - 1
            a[i + 1] = f / (f + 4.0)
            a[i + 2] = (n - 1) / (n + 7.0)
            u = log1p((t - ins[y]) / c)
            a[i + 3] = u / (u + 1.0)
            if n > 1:
                u = log1p(gap[y] / c)
                a[i + 4] = u / (u + 1.0)
                u = log1p((last[y] - first[y]) / ((n - 1) * c))
                a[i + 5] = u / (u + 1.0)
            else:
                a[i + 4] = 1.0
                a[i + 5] = 1.0
            u = log1p((t - first[y] + 1) / (n * c))
            a[i + 6] = u / (u + 1.0)
            b = ret[y]
            a[i + 7] = b / (b + 1.0)
            i += N_CANDIDATE
        a[i] = self._h / self._r
        a[i + 1] = self._new / self._misses
        a[i + 2] = self._ghost / self._misses
        p = (t - self.t0) / self.horizon
        a[i + 3] = p if p < 1.0 else 1.0
        return self.obs


def oracle_score(st: CacheState, cands: Sequence[int], victim: int) -> float:
    """``1 - 2 * (candidates used later than victim) / (others)``; uses the future.

    1.0 when no other candidate's next use is later than ``victim``'s (the choice
    Belady's MIN would make within the candidates, ties included), -1.0 when every other
    one is used later. Training-time reward shaping only.
    """
    nu = st.next_use
    v = nu[victim]
    later = 0
    for y in cands:
        if nu[y] > v:
            later += 1
    others = len(cands) - 1
    return 1.0 - 2.0 * later / others if others else 0.0
