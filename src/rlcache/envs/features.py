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
from bisect import bisect_left
from collections.abc import Sequence
from math import log1p

import numpy as np

from rlcache.cache.state import ALL_SOURCES, CacheState

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


#: The ``extended`` feature set (``env.features: extended``): 13 per candidate, 4 globals.
EXT_CANDIDATE_FEATURES: tuple[str, ...] = (
    *CANDIDATE_FEATURES, "remaining", "overdue", "recency_rank", "count_rank", "dfreq",
)
EXT_GLOBAL_FEATURES: tuple[str, ...] = ("hit_ratio", "new_miss", "ghost_miss", "miss_reuse")
FEATURE_SETS: tuple[str, ...] = ("basic", "extended", "sourced", "history")


def feature_set_names(feature_set: str, n_candidates: int) -> list[str]:
    """Observation entry names of ``feature_set`` (one of ``FEATURE_SETS``)."""
    if feature_set == "basic":
        return feature_names(n_candidates)
    if feature_set == "history":
        from rlcache.envs.history import HISTORY_CANDIDATE_FEATURES as per
    else:
        per = EXT_CANDIDATE_FEATURES if feature_set == "extended" \
            else SOURCED_CANDIDATE_FEATURES
    names = [f"c{j}.{f}" for j in range(n_candidates) for f in per]
    return names + list(EXT_GLOBAL_FEATURES)


def _sq(v: float) -> float:
    """``u / (u + 1)`` with ``u = log1p(v)``, for ``v >= 0``: 0 at 0, 0.41 at 1, -> 1."""
    u = log1p(v)
    return u / (u + 1.0)


class ExtendedFeatureBuilder(FeatureBuilder):
    """The ``extended`` set: the 8 basic features per candidate plus 5, and 4 globals.

    Everything stays scale-free (times divided by the capacity) and in [0, 1]. Added per
    candidate:

    8. ``remaining``     ``last_gap - recency`` in capacities, signed, squashed to [0, 1]
       around 0.5: the time to its next use if it is periodic (0.5 when seen only once).
       Under a loop longer than the cache the most recent candidate has the most left
       (MRU is optimal); under Zipf popular objects have short gaps and little left.
    9. ``overdue``       recency in mean gaps (how many of its usual gaps it has waited;
       1.0 when seen only once)
    10. ``recency_rank`` its recency's rank among the K candidates, 0 most recent .. 1
    11. ``count_rank``   its access count's rank among the candidates, 0 fewest .. 1
    12. ``dfreq``        its decayed access count (``CacheState.decayed_count``: each
        access weighs 2^-(age / half-life), half-life 8 x capacity), squashed by
        ``u / (u + 1)``, ``u = log1p(count)``. Unlike ``count`` and ``mean_gap`` it
        forgets: under shifting popularity, objects that went stale fade.

    The ranks give the shared per-candidate scorer what the others look like, which the
    oracle reward (a rank among candidates) is about. Globals: recent ``hit_ratio``,
    ``new_miss`` and ``ghost_miss`` shares as in the basic set (the ghost list is longer
    by default, ``env.ghost_factor``), and ``miss_reuse``: the recent misses' mean reuse
    distance in capacities (1.0 for first requests); about 0.45 on a loop 1.2x the
    cache. No ``progress``: it meant different things in training windows and in a
    whole-trace evaluation.
    """

    N_CAND = len(EXT_CANDIDATE_FEATURES)
    N_GLOB = len(EXT_GLOBAL_FEATURES)

    def __init__(self, n_candidates: int, capacity: int, decay: float = 0.99) -> None:
        self.k = int(n_candidates)
        self.dim = self.k * self.N_CAND + self.N_GLOB
        self.scale = float(capacity)
        self.decay = float(decay)
        self._arr = array("f", bytes(4 * self.dim))
        self.obs = np.frombuffer(self._arr, dtype=np.float32)
        self.reset(0, 1)

    def reset(self, t0: int, horizon: int, hits: int = 0) -> None:
        """Start an episode (``horizon`` is unused: no progress feature)."""
        super().reset(t0, horizon, hits)
        self._reuse = 0.0

    def observe(self, st: CacheState, cands: Sequence[int]) -> np.ndarray:
        """Update the globals with the requests served since the last call; fill ``obs``."""
        d = self.decay
        t = st.t
        x = st._pending
        c = self.scale
        last, freq, count = st.last_access, st.freq, st.count
        self._h = d * self._h + (st.hits - self._last_hits)
        self._r = d * self._r + (t - self._last_t + 1)
        self._misses = d * self._misses + 1.0
        seen = count[x] > 0
        self._new = d * self._new + (not seen)
        self._ghost = d * self._ghost + (x in st.ghost)
        self._reuse = d * self._reuse + (_sq((t - last[x]) / c) if seen else 1.0)
        self._last_hits = st.hits
        self._last_t = t + 1
        a = self._arr
        first, ins, gap, ret = st.first_access, st.insert_time, st.last_gap, st.returns
        dcount, dnow = st.dcount, st.decay_now()
        nf = self.N_CAND
        k = len(cands)
        recs = [t - last[y] for y in cands]
        cnts = [count[y] for y in cands]
        norm = 1.0 / (k - 1) if k > 1 else 0.0
        srec, scnt = sorted(recs), sorted(cnts)
        i = 0
        for j, y in enumerate(cands):
            n = cnts[j]
            rec = recs[j]
            a[i] = _sq(rec / c)
            f = freq[y] - 1
            a[i + 1] = f / (f + 4.0)
            a[i + 2] = (n - 1) / (n + 7.0)
            a[i + 3] = _sq((t - ins[y]) / c)
            if n > 1:
                g = gap[y]
                a[i + 4] = _sq(g / c)
                mg = (last[y] - first[y]) / (n - 1)
                a[i + 5] = _sq(mg / c)
                v = (g - rec) / c
                a[i + 8] = 0.5 + 0.5 * _sq(v) if v >= 0 else 0.5 - 0.5 * _sq(-v)
                a[i + 9] = _sq(rec / mg) if mg > 0 else 1.0
            else:
                a[i + 4] = 1.0
                a[i + 5] = 1.0
                a[i + 8] = 0.5
                a[i + 9] = 1.0
            a[i + 6] = _sq((t - first[y] + 1) / (n * c))
            b = ret[y]
            a[i + 7] = b / (b + 1.0)
            a[i + 10] = bisect_left(srec, rec) * norm
            a[i + 11] = bisect_left(scnt, n) * norm
            a[i + 12] = _sq(dcount[y] * dnow)
            i += nf
        m = self._misses
        a[i] = self._h / self._r
        a[i + 1] = self._new / m
        a[i + 2] = self._ghost / m
        a[i + 3] = self._reuse / m
        return self.obs


#: The ``sourced`` set: the extended features plus, per candidate, one flag per source
#: kind (``ALL_SOURCES`` order) that proposed it.
SOURCED_CANDIDATE_FEATURES: tuple[str, ...] = (
    *EXT_CANDIDATE_FEATURES, *(f"from_{s}" for s in ALL_SOURCES))


class SourcedFeatureBuilder(ExtendedFeatureBuilder):
    """The ``sourced`` set: ``extended`` plus which sources proposed each candidate.

    The per-candidate scorer sees every candidate alone, so without these flags it
    cannot tell the clock victim from a random resident; with them it can learn to
    follow a heuristic where that heuristic is right. Flag ``from_s`` is 1 when any slot
    of source kind ``s`` proposed this object (duplicates share their flags): 13 + 9
    features per candidate, 4 globals.
    """

    N_CAND = len(SOURCED_CANDIDATE_FEATURES)

    def __init__(self, n_candidates: int, capacity: int, decay: float = 0.99,
                 sources: Sequence[str] = ()) -> None:
        if len(sources) != n_candidates:
            raise ValueError(f"the sourced feature set needs the {n_candidates} candidate "
                             f"sources, got {list(sources)}")
        self._codes = [ALL_SOURCES.index(s) for s in sources]
        super().__init__(n_candidates, capacity, decay)

    def observe(self, st: CacheState, cands: Sequence[int]) -> np.ndarray:
        """The extended features, then each candidate's source flags."""
        super().observe(st, cands)
        masks: dict[int, int] = {}
        for y, code in zip(cands, self._codes, strict=True):
            masks[y] = masks.get(y, 0) | (1 << code)
        a, nf, base = self._arr, self.N_CAND, len(EXT_CANDIDATE_FEATURES)
        n = len(ALL_SOURCES)
        for j, y in enumerate(cands):
            m = masks[y]
            i = j * nf + base
            for b in range(n):
                a[i + b] = (m >> b) & 1
        return self.obs


def make_feature_builder(feature_set: str, n_candidates: int, capacity: int,
                         decay: float = 0.99,
                         sources: Sequence[str] | None = None) -> FeatureBuilder:
    """The builder of ``feature_set`` (``basic``: 8 K + 4, ``extended``: 13 K + 4,
    ``sourced``: 22 K + 4, which needs the candidates' ``sources``; ``history``: 24 K + 4,
    see :mod:`rlcache.envs.history`)."""
    if feature_set == "basic":
        return FeatureBuilder(n_candidates, capacity, decay)
    if feature_set == "extended":
        return ExtendedFeatureBuilder(n_candidates, capacity, decay)
    if feature_set == "sourced":
        return SourcedFeatureBuilder(n_candidates, capacity, decay, sources or ())
    if feature_set == "history":
        from rlcache.envs.history import HistoryFeatureBuilder  # history imports this module

        return HistoryFeatureBuilder(n_candidates, capacity, decay)
    raise ValueError(f"unknown feature set {feature_set!r}; expected one of {FEATURE_SETS}")


def belady_score(st: CacheState, cands: Sequence[int], victim: int) -> float:
    """+1 when no other candidate is used later than ``victim`` (Belady's choice within
    the candidates, ties included), else -1; uses the future, training only."""
    nu = st.next_use
    v = nu[victim]
    for y in cands:
        if nu[y] > v:
            return -1.0
    return 1.0


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


#: ``distance`` reward: next-use distances are scored up to this many capacities (LRB's
#: horizon idea: beyond it an object is as good as never reused at these sizes).
DISTANCE_HORIZON = 64.0


def candidate_scores(next_uses: np.ndarray, t: int, capacity: int, mode: str) -> np.ndarray:
    """Every candidate's training reward as the victim (``mode`` oracle or distance).

    ``next_uses``: the candidates' next-use times (``NEVER`` if none), ``t`` the time
    of the pending miss. ``oracle``: ``oracle_score`` of each candidate (its rank among
    the candidates); ``distance``: ``distance_score``, which depends on the candidate
    alone, so a per-candidate scorer can regress it (LRB-style). Uses the future:
    training only (``env.action_rewards``).
    """
    nu = np.asarray(next_uses)
    if mode == "distance":
        return distance_scores(nu, t, capacity)
    k = len(nu)
    if k < 2:
        return np.zeros(k, dtype=np.float32)
    later = (nu[None, :] > nu[:, None]).sum(axis=1)
    return (1.0 - 2.0 * later / (k - 1)).astype(np.float32)


def distance_scores(next_uses: np.ndarray, t: int, capacity: int) -> np.ndarray:
    """``2 * min(log1p(d / capacity) / log1p(H), 1) - 1``, ``d`` the distance to the next
    use, ``H`` = ``DISTANCE_HORIZON``: -1 for a reuse right away, +1 for none within H
    capacities. Scale-free: the same meaning at every cache size."""
    d = np.asarray(next_uses, dtype=np.float64) - float(t)
    u = np.log1p(np.maximum(d, 0.0) / capacity) / log1p(DISTANCE_HORIZON)
    return (2.0 * np.minimum(u, 1.0) - 1.0).astype(np.float32)
