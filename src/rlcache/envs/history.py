"""The ``history`` feature set: longer per-object history, in the style of LRB.

LRB (Song et al., NSDI'20) learns from several inter-access gaps per object and from
exponentially decayed counters at several time scales. ``history`` adds both to the
``extended`` set, scale-free (times in capacities) and squashed to [0, 1] as the others:

13-18. ``delta3`` .. ``delta8``: the gaps between the object's 2nd and 3rd, ..., 7th and
       8th most recent accesses (``recency`` is the first gap, ``last_gap`` the second),
       ``u / (u + 1)``, ``u = log1p(gap / capacity)``; 1.0 when it has fewer accesses.
19-23. ``edc_q``, ``edc_1``, ``edc_4``, ``edc_16``, ``edc_64``: decayed access counts
       with half-lives of 1/4, 1, 4, 16 and 64 capacities (each access weighs
       ``2 ** -(age / half-life)``), ``u / (u + 1)``, ``u = log1p(count)``.

As elsewhere, history before an eviction is kept (the counts of the window so far).
Nothing is added to ``CacheState``: the builder reads the state's request list
(:class:`AccessHistory`, only the past of each request; again as it grows online) and
follows it back from each candidate's last access. The compiled twin,
:mod:`rlcache.engine.history`, keeps the same values online per object with the same
float operations.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from math import log1p

import numpy as np

from rlcache.cache.state import CacheState
from rlcache.envs.features import EXT_CANDIDATE_FEATURES, ExtendedFeatureBuilder

N_DELTAS = 6
#: Half-lives of the decayed counters in capacities, computed from the longest down: each
#: shorter one's factor is the longer one's to the 4th power (two squarings).
HALF_LIVES: tuple[float, ...] = (0.25, 1.0, 4.0, 16.0, 64.0)
N_EDC = len(HALF_LIVES)
HISTORY_CANDIDATE_FEATURES: tuple[str, ...] = (
    *EXT_CANDIDATE_FEATURES, *(f"delta{i}" for i in range(3, 3 + N_DELTAS)),
    "edc_q", "edc_1", "edc_4", "edc_16", "edc_64",
)


def _factors(dt: int, h64: float) -> tuple[float, float, float, float, float]:
    """``2 ** -(dt / (h x capacity))`` for the half-lives, shortest first (one pow)."""
    a64 = 2.0 ** (-dt / h64)
    z = a64 * a64
    a16 = z * z
    z = a16 * a16
    a4 = z * z
    z = a4 * a4
    a1 = z * z
    z = a1 * a1
    return z * z, a1, a4, a16, a64


class AccessHistory:
    """Per request of a request list: the position of its object's previous request (-1
    if none) in ``prev`` and the decayed counts just after it in ``dec`` (``N_EDC`` per
    request, flat). :meth:`extend` reads requests appended since the last call (a list
    that grows online, as the serving engine's).

    Each value uses only requests up to its own, so reading it at a later time leaks
    nothing of the future.
    """

    def __init__(self, capacity: int) -> None:
        self.h64 = HALF_LIVES[-1] * capacity
        self.prev: list[int] = []
        self.dec = array("d")
        self._last: list[int] = []

    def extend(self, req: Sequence[int], n_index: int) -> None:
        """Read ``req[len(self.prev):]`` (objects below ``n_index``)."""
        last, prev, h64 = self._last, self.prev, self.h64
        if len(last) < n_index:
            last.extend([-1] * (n_index - len(last)))
        k0 = len(prev)
        prev.extend([-1] * (len(req) - k0))
        dec = self.dec
        dec.extend(array("d", bytes(8 * N_EDC * (len(req) - k0))))
        for k in range(k0, len(req)):
            x = req[k]
            p = last[x]
            last[x] = k
            j = N_EDC * k
            if p < 0:
                for h in range(N_EDC):
                    dec[j + h] = 1.0
                continue
            prev[k] = p
            i = N_EDC * p
            fs = _factors(k - p, h64)
            for h in range(N_EDC):
                dec[j + h] = dec[i + h] * fs[h] + 1.0


def access_history(req: Sequence[int], n_index: int, capacity: int) -> tuple[list[int], array]:
    """``(prev, dec)`` of :class:`AccessHistory` over all of ``req``."""
    hist = AccessHistory(capacity)
    hist.extend(req, n_index)
    return hist.prev, hist.dec


def _sq(v: float) -> float:
    u = log1p(v)
    return u / (u + 1.0)


class HistoryFeatureBuilder(ExtendedFeatureBuilder):
    """``extended`` plus 6 older inter-access gaps and 5 decayed counts: 24 + 4 globals."""

    N_CAND = len(HISTORY_CANDIDATE_FEATURES)

    def __init__(self, n_candidates: int, capacity: int, decay: float = 0.99) -> None:
        super().__init__(n_candidates, capacity, decay)
        self._st: CacheState | None = None
        self._hist = AccessHistory(capacity)

    def __getstate__(self) -> dict[str, object]:
        """Pickle / deepcopy without the numpy view and the per-state cache."""
        state = super().__getstate__()
        state.update(_st=None, _hist=AccessHistory(int(self.scale)))
        return state

    def observe(self, st: CacheState, cands: Sequence[int]) -> np.ndarray:
        """The extended features, then each candidate's older gaps and decayed counts."""
        super().observe(st, cands)
        hist = self._hist
        if st is not self._st:  # a new window: read its requests from the start
            hist = self._hist = AccessHistory(st.capacity)
            self._st = st
        if len(hist.prev) < len(st._req):
            hist.extend(st._req, len(st.count))
        prev, dec, last = hist.prev, hist.dec, st.last_access
        a, nf, base, c, t = self._arr, self.N_CAND, len(EXT_CANDIDATE_FEATURES), self.scale, st.t
        h64 = HALF_LIVES[-1] * st.capacity
        # _sq and _factors written out: this loop runs for every candidate of every decision
        for j, y in enumerate(cands):
            i = j * nf + base
            p = last[y]
            q = prev[p]
            for m in range(N_DELTAS):
                r = prev[q] if q >= 0 else -1
                if r < 0:
                    for mm in range(i + m, i + N_DELTAS):
                        a[mm] = 1.0
                    break
                u = log1p((q - r) / c)
                a[i + m] = u / (u + 1.0)
                q = r
            i += N_DELTAS
            for h, f in enumerate(_factors(t - p, h64), N_EDC * p):
                u = log1p(dec[h] * f)
                a[i] = u / (u + 1.0)
                i += 1
        return self.obs
