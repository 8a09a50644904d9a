"""``HistoryEngine``: :class:`rlcache.engine.Engine` over the ``history`` feature set.

The same API and guarantees as ``Engine`` (same victims, same hits as the reference replay
with :class:`rlcache.envs.history.HistoryFeatureBuilder`); it keeps two per-object arrays
more (older inter-access gaps, decayed counts at five half-lives) and runs
``_history.serve_history``. Kept apart from ``core`` so that the base engine's kernel
stays as it is for the other feature sets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rlcache.engine import _layout as K
from rlcache.engine._history import N_CAND_HIST, N_DELTAS, N_EDC, serve_history
from rlcache.engine.core import Engine, Scorer


class HistoryEngine(Engine):
    """An ``Engine`` whose scorer reads the ``history`` features (24 per candidate + 4)."""

    def __init__(self, capacity: int, sources: Sequence[str], scorer: Scorer | None = None,
                 *, seed: int = 0, ghost_size: int | None = None,
                 half_life: float | None = None, decay: float = 0.99, n_objects: int = 0,
                 horizon: int = 1) -> None:
        if scorer is not None and scorer.n_inputs != N_CAND_HIST + K.N_GLOB:
            raise ValueError(f"the scorer takes {scorer.n_inputs} inputs; history features "
                             f"give {N_CAND_HIST} per candidate + {K.N_GLOB} globals")
        self._hint = np.zeros((0, N_DELTAS), dtype=np.int64)
        self._hflt = np.zeros((0, N_EDC), dtype=np.float64)
        # the extended state underneath: its observation is the first 13 of every 24
        super().__init__(capacity, sources, None, features="extended", seed=seed,
                         ghost_size=ghost_size, half_life=half_life, decay=decay,
                         n_objects=n_objects, horizon=horizon)
        self.features = "history"
        self.scorer = scorer
        if scorer is not None:
            self._net, self._bias, self._sizes = scorer.net, scorer.bias, scorer.sizes
        self.obs_dim = len(self.sources) * N_CAND_HIST + K.N_GLOB
        self._no_obs = np.zeros((0, self.obs_dim), dtype=np.float32)

    def _grow(self, rows: int) -> None:
        super()._grow(rows)
        old, new = self._hint.shape[0], self._iobj.shape[0]
        if new > old:
            hint = np.zeros((new, N_DELTAS), dtype=np.int64)
            hint[:old] = self._hint
            hflt = np.zeros((new, N_EDC), dtype=np.float64)
            hflt[:old] = self._hflt
            self._hint, self._hflt = hint, hflt

    def _run(self, req: np.ndarray, rec: np.ndarray, obs_rec: np.ndarray) -> None:
        i, n = 0, len(req)
        while i < n:
            if self._S[K.T] >= self._S[K.WBASE] + len(self._w):
                self._refill()
            i = serve_history(req, i, n, self._S, self._F, self._iobj, self._fobj, self._slots,
                              self._rings, self._lfuh, self._rfk, self._rfo, self._mt, self._w,
                              self._src, self._net, self._bias, self._sizes, self._sqt, rec,
                              obs_rec, self._hint, self._hflt)
            if i < n:
                if self._S[K.CHOICE] >= 0:  # a decision waits for the caller (DECIDE)
                    return
                x = int(req[i])
                if x < 0:  # the kernel stops at a forget code only for a row it lacks
                    raise ValueError(f"object ids must be >= 0, got {x}")
                self._grow(x + 1)
