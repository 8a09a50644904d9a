"""The one engine behind every serving path: a cache whose victims a policy chooses.

An engine takes requests one at a time (``access(obj) -> hit``), objects named by small
non-negative ints, and on a miss with a full cache evicts the candidate the policy
scores best (``victim``). ``rlcache evaluate --policy``, :class:`~rlcache.serve.LearnedCache`
and the libCacheSim plugin all get theirs from :func:`make_engine`, so on the same trace
and capacity they evict the same objects and count the same hits.

Two implementations with one interface: :class:`CompiledPolicyEngine` over the compiled
engine (:mod:`rlcache.engine`, when installed) and :class:`PolicyEngine`, the reference
over the pure-Python simulator (``CacheState`` grown one request at a time, the env's
feature builders, the numpy forward of the policy file), whose decisions are exactly
those of ``evaluate_on_trace``. Both honour a per-eviction time budget.
"""

from __future__ import annotations

import importlib.util
import time
from array import array
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from rlcache.cache.state import SOURCES, CacheState
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
    features: :class:`rlcache.engine.history.HistoryEngine`, without a budget or forget).

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
            if budget is not None:
                raise ValueError(_NO_HISTORY_BUDGET)
            from rlcache.engine.history import HistoryEngine

            self.engine: Engine = HistoryEngine(capacity, dec["candidates"], scorer, **kwargs)
            # it never packs its arrays (Engine._bind), so S stays this array
            self.engine.state = memoryview(self.engine._S)
            # serve_history has no forget code: LearnedCache keeps every key's history
            self.forgets = False
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


def ghost_size(decisions: dict[str, Any], capacity: int) -> int:
    """The ghost list length: ``ghost_size``, else ``ghost_factor`` x capacity (the env's)."""
    g = decisions["ghost_size"]
    return max(0, round(decisions["ghost_factor"] * capacity)) if g is None else int(g)


def compiled_available() -> bool:
    """Whether the compiled engine (:mod:`rlcache.engine`) is installed."""
    return importlib.util.find_spec("rlcache.engine") is not None


_NO_HISTORY_BUDGET = ("the compiled engine cannot honour a time budget with history "
                      "features; use engine='reference' or no budget")


def compiled_supports(policy: Policy, budget: float | None = None) -> bool:
    """Whether the compiled engine can run ``policy`` (a candidate scorer over the six
    classic sources with the basic, extended or history features -- history without a
    ``budget`` -- and rlcache.engine present)."""
    features = policy.decisions["features"]
    return (policy.meta["network"]["type"] == "candidate"
            and set(policy.candidates) <= set(SOURCES)
            and (features in ("basic", "extended")
                 or (features == "history" and budget is None))
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
        if compiled_supports(policy):
            raise ValueError(_NO_HISTORY_BUDGET)
        raise ValueError("the compiled engine needs a candidate-scorer policy over lru, "
                         "lfu, fifo, mru, lrfu, random with basic, extended or history "
                         "features, and rlcache.engine")
    if engine == "compiled" or (engine == "auto" and can):
        return CompiledPolicyEngine(policy, capacity, horizon, budget)
    return PolicyEngine(policy, capacity, budget=budget, horizon=horizon)
