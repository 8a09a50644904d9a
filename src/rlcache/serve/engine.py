"""The one engine behind every serving path: a cache whose victims a policy chooses.

An engine takes requests one at a time (``access(obj) -> hit``), objects named by small
non-negative ints, and on a miss with a full cache evicts the candidate the policy
scores best (``victim``). ``rlcache evaluate --policy``, :class:`~rlcache.serve.LearnedCache`
and the libCacheSim plugin all get theirs from :func:`make_engine`, so on the same trace
and capacity they evict the same objects and count the same hits.

Two implementations with one interface: :class:`CompiledPolicyEngine` over the compiled
engine (:mod:`rlcache.engine`, when installed) and :class:`PolicyEngine`
(:mod:`rlcache.serve.reference`), the reference over the pure-Python simulator
(``CacheState`` grown one request at a time, the env's feature builders, the numpy
forward of the policy file), whose decisions are exactly those of ``evaluate_on_trace``.
Both honour a per-eviction time budget.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Hashable
from typing import Any

import numpy as np

from rlcache.cache.state import SOURCES
from rlcache.policy.file import Policy
from rlcache.serve.reference import PolicyEngine, ghost_size

__all__ = ["ENGINES", "CompiledPolicyEngine", "DenseIds", "PolicyEngine", "compiled_available",
           "compiled_supports", "ghost_size", "make_engine"]

_GROW = 1024  # requests buffered before one compiled call


class DenseIds:
    """Any hashable keys <-> the dense ints the engine names objects by (never reused)."""

    def __init__(self) -> None:
        self.ids: dict[Hashable, int] = {}
        self.keys: list[Hashable] = []

    def index(self, key: Hashable) -> int:
        """The int naming ``key``; a new key gets the next one."""
        i = self.ids.get(key)
        if i is None:
            i = self.ids[key] = len(self.keys)
            self.keys.append(key)
        return i

    def __len__(self) -> int:
        return len(self.keys)


ENGINES = ("auto", "compiled", "reference")


class CompiledPolicyEngine:
    """:class:`PolicyEngine`'s interface over the compiled engine (:mod:`rlcache.engine`):
    the same decisions at native speed, for candidate-scorer policies (``history``
    features: :class:`rlcache.engine.history.HistoryEngine`).

    ``budget`` (seconds): each eviction is served in two calls, the first stopping at the
    decision; when it took longer (from the call, hits served on the way included), the
    second carries out the LRU victim instead of the policy's (``fallbacks``).
    """

    def __init__(self, policy: Policy, capacity: int, horizon: int | None = None,
                 budget: float | None = None) -> None:
        from rlcache.engine import Engine, Scorer
        from rlcache.engine import _layout as K

        dec = policy.decisions
        self.policy, self.capacity, self.budget = policy, int(capacity), budget
        self._lv, self._choice, self._lru, self._force = (K.LAST_VICTIM, K.CHOICE,
                                                          K.LRU_CAND, K.FORCE)
        kwargs: dict[str, Any] = dict(
            seed=int(dec["seed"]), ghost_size=ghost_size(dec, capacity),
            half_life=float(dec["dfreq_half_life"]) * capacity, decay=float(dec["decay"]),
            horizon=int(horizon or policy.env.get("window") or 20_000))
        scorer = Scorer(policy.network.layers)
        if dec["features"] == "history":
            from rlcache.engine.history import HistoryEngine

            self.engine: Engine = HistoryEngine(capacity, dec["candidates"], scorer, **kwargs)
            # it never packs its arrays (Engine._bind), so S stays this array
            self.engine.state = memoryview(self.engine._S)
        else:
            self.engine = Engine(capacity, dec["candidates"], scorer,
                                 features=dec["features"], **kwargs)
        self.victim = -1
        self.fallbacks = 0
        self.policy_seconds = 0.0
        self._clock = time.perf_counter
        # Requests that cannot evict (hits, admissions with room), served with the next
        # call that needs the engine: they draw no random numbers and evict nothing, so
        # the state at the next eviction is exactly the same, and a batch is one call.
        # Python ints go in and out through memoryviews (a numpy scalar costs more).
        self._buf = np.zeros(_GROW, dtype=np.int64)
        self._put = memoryview(self._buf)
        self._n = 0
        if budget is not None:
            S = self.engine._S
            S[K.DECIDE] = 1
            S[K.USE_LRU] = 1  # the fallback's victim (the ring changes no decision)
            self.evict_for = self._evict_within_budget  # type: ignore[method-assign]

    #: Whether :meth:`forget` works (LearnedCache bounds the keys it remembers only then).
    forgets = True

    def touch(self, obj: int) -> None:
        """A request the caller knows cannot evict (a hit, or an admission with room)."""
        n = self._n
        self._put[n] = obj
        self._n = n = n + 1
        if n == _GROW:
            self._flush()

    def forget(self, obj: int) -> None:
        """Make non-resident ``obj`` a never-seen object (its id may then name another);
        served in order with the buffered requests."""
        self.touch(-1 - obj)

    def _flush(self) -> None:
        if self._n:
            n, self._n = self._n, 0
            self.engine.serve_some(self._buf, n)

    def evict_for(self, obj: int) -> int:
        """Admit missing ``obj`` into the full cache; returns the object evicted for it
        (-1 if there was room after all)."""
        n = self._n
        self._put[n] = obj
        self._n = 0
        clock = self._clock
        t0 = clock()
        self.engine.serve_some(self._buf, n + 1)
        self.victim = v = self.engine.state[self._lv]
        self.policy_seconds += clock() - t0
        return v

    def _evict_within_budget(self, obj: int) -> int:
        """:meth:`evict_for` with the budget: stop at the decision, then carry out the
        policy's victim, or the LRU one when the decision came late."""
        n = self._n
        self._put[n] = obj
        self._n = 0
        eng, clock = self.engine, self._clock
        t0 = clock()
        eng.serve_some(self._buf, n + 1)
        st = eng.state
        choice = st[self._choice]
        spent = clock() - t0
        self.policy_seconds += spent
        if choice < 0:  # there was room: no decision
            self.victim = v = st[self._lv]
            return v
        if spent > self.budget:
            choice = st[self._lru]
            self.fallbacks += 1
        st[self._choice] = -1
        st[self._force] = choice
        self._put[0] = obj
        eng.serve_some(self._buf, 1)
        self.victim = v = eng.state[self._lv]
        return v

    @property
    def hits(self) -> int:
        """Hits served so far."""
        self._flush()
        return self.engine.hits

    @property
    def decisions(self) -> int:
        """Evictions the policy chose."""
        self._flush()
        return self.engine.evictions

    def access(self, obj: int) -> bool:
        """Request ``obj``: True on a hit; ``victim`` as in :meth:`PolicyEngine.access`."""
        self._flush()
        if (self.budget is not None and obj not in self.engine
                and len(self.engine) >= self.capacity):
            self.evict_for(obj)  # the budget's two calls
            return False
        t0 = self._clock()
        if self.engine.access(obj):
            self.victim = -1
            return True
        self.victim = v = self.engine.last_victim
        if v >= 0:
            self.policy_seconds += self._clock() - t0
        return False

    def replay(self, objs: Any) -> int:
        """Serve every request of ``objs`` in one compiled call (one by one under a
        budget); the hits among them."""
        self._flush()
        if self.budget is not None:
            access = self.access
            return sum(access(x) for x in np.asarray(objs, dtype=np.int64).tolist())
        return self.engine.replay(np.asarray(objs, dtype=np.int64))

    def remove(self, obj: int) -> bool:
        """Drop resident ``obj`` outside an eviction; False if it is not resident."""
        self._flush()
        return self.engine.remove(obj)

    def is_resident(self, obj: int) -> bool:
        """Whether ``obj`` is cached."""
        self._flush()
        return obj in self.engine

    def __len__(self) -> int:
        self._flush()
        return len(self.engine)


def compiled_available() -> bool:
    """Whether the compiled engine (:mod:`rlcache.engine`) is installed."""
    return importlib.util.find_spec("rlcache.engine") is not None


def compiled_supports(policy: Policy, budget: float | None = None) -> bool:
    """Whether the compiled engine can run ``policy`` (a candidate scorer over the six
    classic sources with the basic, extended or history features, and rlcache.engine
    present); ``budget`` is accepted for the callers' symmetry (every budget runs)."""
    return (policy.meta["network"]["type"] == "candidate"
            and set(policy.candidates) <= set(SOURCES)
            and policy.decisions["features"] in ("basic", "extended", "history")
            and compiled_available())


def make_engine(policy: Policy, capacity: int, budget: float | None = None,
                horizon: int | None = None, engine: str = "auto"
                ) -> PolicyEngine | CompiledPolicyEngine:
    """The engine every serving path uses: compiled when it can be (a candidate-scorer
    policy over the six classic sources, :mod:`rlcache.engine` present), else the
    reference one. Both honour a time ``budget`` (seconds per eviction)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    can = compiled_supports(policy, budget)
    if engine == "compiled" and not can:
        raise ValueError("the compiled engine needs a candidate-scorer policy over lru, "
                         "lfu, fifo, mru, lrfu, random with basic, extended or history "
                         "features, and rlcache.engine")
    if engine == "compiled" or (engine == "auto" and can):
        return CompiledPolicyEngine(policy, capacity, horizon, budget)
    return PolicyEngine(policy, capacity, budget=budget, horizon=horizon)
