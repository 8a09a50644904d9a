"""``WindowStepper``: one cache-env episode on the compiled engine, stopped at each decision.

The env (:class:`rlcache.envs.cache_env.CacheEnv`) drives it: warm up with LRU, advance to
a decision, read ``obs`` (the env's observation, bit for bit) and ``cands``, then
``step(action)``. Objects are renumbered densely in the window (sorted, so ties broken by
object id stay the same), which keeps the per-object state as small as the window.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rlcache.engine import _layout as K
from rlcache.engine._history import N_CAND_HIST, N_DELTAS, N_EDC
from rlcache.engine._step import (
    DECISION,
    FIRST,
    G_STEPS,
    LATER,
    N_G,
    N_P,
    PENDING,
    R_BELADY,
    R_HITS,
    R_HITS_ORACLE,
    R_ORACLE,
    REFILL,
    env_greedy,
    env_run,
    fill_table,
)
from rlcache.engine.core import Engine, Scorer

#: ``CacheEnvConfig.reward`` -> ``env_greedy``'s mode
REWARD_MODES = {"hits": R_HITS, "oracle": R_ORACLE, "belady": R_BELADY,
                "hits_oracle": R_HITS_ORACLE}

_SQT: dict[int, np.ndarray] = {}  # capacity -> the _sq(v / capacity) table (read-only)


def _table(capacity: int, size: int) -> np.ndarray:
    """The kernel's squash table for ``capacity``, filled once per process."""
    sqt = _SQT.get(capacity)
    if sqt is None:
        # numba's log1p (libm), as the kernel: numpy's may be another (SIMD) log1p
        sqt = _SQT[capacity] = np.empty(size, dtype=np.float64)
        fill_table(sqt, float(capacity))
    return sqt


class WindowStepper(Engine):
    """The requests ``objs`` (one window, times from 0) through a cache the caller steers."""

    def __init__(self, objs: np.ndarray, next_use: np.ndarray, capacity: int,
                 sources: Sequence[str], *, features: str, seed: int, ghost_size: int,
                 half_life: float, decay: float, t0: int, horizon: int) -> None:
        uniq, local = np.unique(np.asarray(objs), return_inverse=True)
        hist = features == "history"  # the extended state plus _history's two arrays
        super().__init__(capacity, sources, features="extended" if hist else features,
                         seed=seed,
                         ghost_size=ghost_size, half_life=half_life, decay=decay,
                         n_objects=len(uniq), horizon=horizon)
        self.objects = uniq
        self._req = np.ascontiguousarray(local, dtype=np.int64)
        self._nxt = np.ascontiguousarray(next_use, dtype=np.int64)
        S = self._S
        S[K.USE_LRU] = 1  # the warm-up evicts LRU's victim whatever the sources
        S[K.T0] = t0
        self._sqt = _table(capacity, len(self._sqt))
        S[K.SQ_N] = len(self._sqt)
        self.cands = np.zeros(len(self.sources), dtype=np.int64)
        rows = len(uniq) if hist else 0
        self._hint = np.zeros((rows, N_DELTAS), dtype=np.int64)
        self._hflt = np.zeros((rows, N_EDC), dtype=np.float64)
        self._ext = np.zeros(self.obs_dim if hist else 0, dtype=np.float32)
        if hist:
            self.features = "history"
            self.obs_dim = len(self.sources) * N_CAND_HIST + K.N_GLOB
        self.obs = np.zeros(self.obs_dim, dtype=np.float32)
        self._P = np.zeros(N_P, dtype=np.int64)
        self._P[PENDING] = -1
        self._refill()

    def _go(self, action: int, until: int, warm: bool) -> bool:
        while True:
            code = env_run(action, until, warm, self._req, self._nxt, self._S, self._F,
                           self._iobj, self._fobj, self._slots, self._rings, self._lfuh,
                           self._rfk, self._rfo, self._mt, self._w, self._src, self._sqt,
                           self.cands, self.obs, self._P, self._hint, self._hflt, self._ext)
            if code != REFILL:
                return code == DECISION
            self._refill()

    def warm_up(self, until: int) -> None:
        """Serve requests up to window time ``until``, evicting LRU's victims."""
        self._go(0, until, True)

    def start(self, t0: int) -> bool:
        """Start the agent's part: the globals from zero at ``t0``; True at a decision."""
        self._S[K.LAST_T] = t0
        self._F[K.GH:K.GREUSE + 1] = 0.0
        self._P[FIRST] = 1
        return self._go(0, len(self._req), False)

    def step(self, action: int) -> bool:
        """Evict candidate ``action``, serve up to the next decision (True) or the end."""
        return self._go(int(action), len(self._req), False)

    def play_greedy(self, scorer: Scorer, limit: int, reward: str, scale: float = 1.0,
                    oracle_weight: float = 0.0) -> tuple[float, int]:
        """From the pending decision, evict ``scorer``'s choice at each decision until the
        window ends or ``limit`` decisions are taken: the env's summed ``reward``
        (``scale``, ``oracle_weight`` as the env's) and the decisions taken."""
        if scorer.n_inputs != (self.obs_dim - K.N_GLOB) // len(self.sources) + K.N_GLOB:
            raise ValueError(f"the scorer takes {scorer.n_inputs} inputs, the observation "
                             f"has {self.obs_dim} for {len(self.sources)} candidates")
        counts = np.zeros(N_G, dtype=np.int64)
        total = np.zeros(1, dtype=np.float64)
        while True:
            code = env_greedy(limit, REWARD_MODES[reward], float(scale), float(oracle_weight),
                              self._req, self._nxt, self._S, self._F, self._iobj, self._fobj,
                              self._slots, self._rings, self._lfuh, self._rfk, self._rfo,
                              self._mt, self._w, self._src, self._sqt, self.cands, self.obs,
                              self._P, self._hint, self._hflt, self._ext, scorer.net,
                              scorer.bias, scorer.sizes, counts, total)
            if code != REFILL:
                return float(total[0]), int(counts[G_STEPS])
            self._refill()

    @property
    def pending(self) -> bool:
        """Whether a decision waits for ``step``."""
        return bool(self._P[PENDING] >= 0)

    @property
    def later(self) -> int:
        """Candidates whose next use came after the last victim's (the oracle's count)."""
        return int(self._P[LATER])

    def next_uses(self) -> np.ndarray:
        """The pending decision's candidates' next-use times (window time, huge if none)."""
        return self._nxt[self._iobj[self.cands, K.LAST]]

    @property
    def time(self) -> int:
        """Window time: requests served so far."""
        return int(self._S[K.T])

    def candidate_ids(self) -> list[int]:
        """The pending decision's candidates as trace object indices."""
        return self.objects[self.cands].tolist()
