"""The reference serving engine: the pure-Python simulator, one request at a time.

:class:`PolicyEngine` grows ``CacheState`` by one request per call, builds the env's
features and runs the policy file's numpy forward, so its decisions are exactly those of
``evaluate_on_trace``; :class:`~rlcache.serve.engine.CompiledPolicyEngine` must match it
(tests/serve). :func:`~rlcache.serve.engine.make_engine` picks between the two.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np

from rlcache.cache.state import CacheState
from rlcache.cache.trace import NEVER, Trace
from rlcache.policy.file import Policy

_GROW = 1024


class _OnlineState(CacheState):
    """``CacheState`` over a trace that grows by one request per :meth:`push`.

    The future is unknown online: ``next_use`` stays ``NEVER`` (the features never read
    it). Per-object lists grow as new objects appear.
    """

    def __init__(self, capacity: int, seed: int, ghost_size: int, half_life: float) -> None:
        super().__init__(Trace(np.zeros(0, dtype=np.int64)), capacity, seed=seed,
                         ghost_size=ghost_size, half_life=half_life)
        # LFU keys are freq * m + time: m must exceed every time, and there is no end.
        self._m = 1 << 62
        self._size = 0

    def _grow(self, size: int) -> None:
        extra = size - self._size
        for name, fill in (("freq", 0), ("count", 0), ("first_access", -1),
                           ("last_access", -1), ("insert_time", -1), ("last_gap", 0),
                           ("next_use", NEVER), ("returns", 0), ("_lfu_key", -1), ("_pos", 0)):
            getattr(self, name).extend([fill] * extra)
        self.dcount.extend(array("d", bytes(8 * extra)))
        self._lrfu_key.extend(array("d", [-1.0]) * extra)
        self._size = size

    def push(self, obj: int) -> bool:
        """Serve a request for ``obj``: True on a hit; on a miss with a full cache it
        stays ``pending`` until :meth:`evict`."""
        if obj >= self._size:
            self._grow(max(obj + 1, 2 * self._size, _GROW))
        k = self._n
        self._req.append(obj)
        self._next.append(NEVER)
        if k >= len(self._w):
            # The very expression CacheState uses (np.exp2 over an array), in chunks, so
            # the decayed counts are bit-identical to a whole-trace replay's.
            ks = np.arange(k, k + _GROW, dtype=np.float64)
            self._w.extend(array("d", np.exp2((ks % self._period) / self.half_life).tobytes()))
        self._n = k + 1
        hits = self.hits
        self.advance()
        return self.hits > hits

    def remove(self, obj: int) -> bool:
        """Drop resident ``obj`` (a user's delete, not an eviction: no ghost entry)."""
        if obj >= self._size or not self.freq[obj] or self._pending >= 0:
            return False
        self.freq[obj] = 0
        self._lfu_key[obj] = -1
        self._lrfu_key[obj] = -1.0
        slots, pos = self.slots, self._pos
        last = slots.pop()
        if last != obj:
            slots[pos[obj]] = last
            pos[last] = pos[obj]
        return True


class PolicyEngine:
    """Request-by-request cache of ``capacity`` objects evicting by ``policy``.

    ``budget`` (seconds, optional): a decision that took longer is replaced by the LRU
    victim (counted in ``fallbacks``). ``horizon``: requests over which the basic
    feature set's ``progress`` runs from 0 to 1 (default: the training window).
    """

    def __init__(self, policy: Policy, capacity: int, budget: float | None = None,
                 horizon: int | None = None) -> None:
        dec = policy.decisions
        self.policy, self.capacity, self.budget = policy, int(capacity), budget
        self.state = _OnlineState(capacity, int(dec["seed"]), ghost_size(dec, capacity),
                                  float(dec["dfreq_half_life"]) * capacity)
        self.sources = tuple(dec["candidates"])
        # Bound once, as evaluate_on_trace does (same calls, same random draws).
        self._fns = [self.state._source(s) for s in self.sources]
        from rlcache.envs.features import make_feature_builder  # gymnasium: only here

        self.features = make_feature_builder(dec["features"], len(self.sources), capacity,
                                             float(dec["decay"]), self.sources)
        window = policy.env.get("window") or 20_000
        self.features.reset(0, int(horizon or window))
        self._select: Callable[[np.ndarray], int] = policy.select
        self.victim = -1
        self.decisions = self.fallbacks = 0
        self.policy_seconds = 0.0

    @property
    def hits(self) -> int:
        """Hits served so far."""
        return self.state.hits

    def access(self, obj: int) -> bool:
        """Request ``obj``: True on a hit. On a miss it is admitted; ``victim`` is the
        object evicted for it, or -1 when there was room."""
        st = self.state
        self.victim = -1
        if st.push(obj):
            return True
        if st.pending is not None:
            self.victim = victim = self._choose()
            st.evict(victim)
        return False

    def touch(self, obj: int) -> None:
        """A request the caller knows cannot evict (``access`` without the answer)."""
        self.access(obj)

    def evict_for(self, obj: int) -> int:
        """Admit missing ``obj`` into the full cache; the object evicted for it (or -1)."""
        self.access(obj)
        return self.victim

    def replay(self, objs: Any) -> int:
        """Serve every request of ``objs`` (ints) in turn; the hits among them."""
        access = self.access
        return sum(access(x) for x in np.asarray(objs, dtype=np.int64).tolist())

    def _choose(self) -> int:
        st = self.state
        t0 = time.perf_counter()
        cands = [fn() for fn in self._fns]
        victim = cands[self._select(self.features.observe(st, cands))]
        spent = time.perf_counter() - t0
        self.decisions += 1
        self.policy_seconds += spent
        if self.budget is not None and spent > self.budget:
            self.fallbacks += 1
            return st.lru_victim()
        return victim

    def remove(self, obj: int) -> bool:
        """Drop resident ``obj`` outside an eviction; False if it is not resident."""
        return self.state.remove(obj)

    def is_resident(self, obj: int) -> bool:
        """Whether ``obj`` is cached."""
        return obj < self.state._size and self.state.freq[obj] > 0

    def __len__(self) -> int:
        return self.state.occupancy


def ghost_size(decisions: dict[str, Any], capacity: int) -> int:
    """The ghost list length: ``ghost_size``, else ``ghost_factor`` x capacity (the env's)."""
    g = decisions["ghost_size"]
    return max(0, round(decisions["ghost_factor"] * capacity)) if g is None else int(g)
