"""``LearnedCache``: a ``cachetools.Cache`` whose victims a trained policy chooses.

A drop-in for ``cachetools.LRUCache`` (``@cached``, ``get``, ``pop``, ``in``, ``len``).
Looking a key up (``cache[key]``, ``get``) is a request: a hit updates the policy's
view of it; storing a new key is the miss's admission, and when the cache is full,
``popitem()`` evicts the candidate the policy scores best, as cachetools' own caches
choose their victims in ``popitem``. Keys may be any hashable; the engine names them by
dense ints and keeps a history per key (counts, gaps, ghost entries) that the features
read when a key comes back. ``history`` bounds the keys remembered outside the cache
(the ones that left longest ago are forgotten and their ids reused), so memory stays
bounded however many distinct keys pass. Sizes are object counts (no ``getsizeof``).

Like cachetools, not thread-safe: share one across threads through
:class:`LockedCache` or ``@cached(cache, lock=threading.Lock())``.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator, MutableMapping
from typing import Any, NamedTuple

from cachetools import Cache

from rlcache.policy.file import Policy, load_policy, resolve_policy
from rlcache.serve.engine import DenseIds, ghost_size, make_engine

_MARKER = object()
HISTORY = 65536  # keys outside the cache whose history LearnedCache keeps by default


class CacheStats(NamedTuple):
    """Counters of a :class:`LearnedCache` (a snapshot)."""

    hits: int
    """Lookups (``cache[key]``, ``get``) that found the key."""
    misses: int
    """Lookups that did not."""
    evictions: int
    """Keys evicted to make room (``popitem``), by the policy or its fallback."""
    decisions: int
    """Evictions the policy was asked to choose."""
    fallbacks: int
    """Decisions over the time budget, replaced by the LRU victim."""
    policy_seconds: float
    """Time spent choosing victims (candidates, features, network)."""


def as_policy(policy: Policy | str | Any) -> Policy:
    """A loaded policy, a policy file path, or ``"pretrained"`` -> a :class:`Policy`."""
    return policy if isinstance(policy, Policy) else load_policy(resolve_policy(policy))


class LearnedCache(Cache):
    """Cache of ``maxsize`` objects; the policy (a file, ``"pretrained"`` or a loaded
    :class:`~rlcache.policy.Policy`) picks each victim.

    ``history``: how many keys not in the cache keep their history (at least the ghost
    list's length; default 65536); a forgotten key that returns counts as new, so
    decisions differ from ``rlcache evaluate --policy``'s whole-trace replay only once
    more distinct keys than that have left the cache. ``None`` keeps every key (memory
    grows with the distinct keys seen); the reference engine always does.

    ``budget_us``: per-eviction time budget in microseconds; a decision that took longer
    evicts the LRU victim instead (counted in ``stats.fallbacks``; the compiled engine
    then serves an eviction in two calls, stopping at the decision). ``horizon``: see
    :class:`~rlcache.serve.engine.PolicyEngine`. ``engine``: ``auto`` (compiled when
    possible), ``compiled`` or ``reference`` (see :func:`~rlcache.serve.engine.make_engine`).
    """

    def __init__(self, maxsize: int, policy: Policy | str | Any = "pretrained", *,
                 budget_us: float | None = None, horizon: int | None = None,
                 engine: str = "auto", history: int | None = HISTORY) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"maxsize must be an integer >= 1, got {maxsize!r}")
        if history is not None and (isinstance(history, bool) or not isinstance(history, int)
                                    or history < 0):
            raise ValueError(f"history must be an integer >= 0 or None, got {history!r}")
        if budget_us is not None and not budget_us > 0:
            raise ValueError(f"budget_us must be > 0 or None, got {budget_us!r}")
        Cache.__init__(self, maxsize)
        self.policy = as_policy(policy)
        self._budget = None if budget_us is None else budget_us * 1e-6
        self._horizon, self._engine_kind = horizon, engine
        self._max = maxsize
        self._history = history
        self._hits = self._misses = self._evictions = 0
        # popitem as defined here: __setitem__ evicts inline (one Python call less per miss)
        self._own_popitem = type(self).popitem is LearnedCache.popitem
        self._start()

    def _start(self) -> None:
        # The values live here, not in cachetools' private dict: one dict lookup per hit.
        self._vals: dict[Hashable, Any] = {}
        self._ids = DenseIds()
        self._id, self._keys = self._ids.ids, self._ids.keys
        self._incoming = -1
        self._engine = make_engine(self.policy, self._max, self._budget, self._horizon,
                                   self._engine_kind)
        self._touch = self._engine.touch
        self._evict_for = self._engine.evict_for  # after the engine chose its budget path
        # ids of the keys that left the cache, oldest first; freed ids for new keys
        self._gone: dict[int, None] = {}
        self._free: list[int] = []
        forgets = getattr(self._engine, "forgets", False)
        self._bound = (None if self._history is None or not forgets else
                       max(self._history, ghost_size(self.policy.decisions, self._max) + 1))

    @property
    def stats(self) -> CacheStats:
        """Hits, misses, evictions, decisions, fallbacks and time in the policy."""
        e = self._engine
        return CacheStats(self._hits, self._misses, self._evictions, e.decisions,
                          e.fallbacks, e.policy_seconds)

    @property
    def currsize(self) -> int:
        """The number of cached objects (sizes are object counts)."""
        return len(self._vals)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._vals!r}, maxsize={self._max!r})"

    def __contains__(self, key: object) -> bool:
        return key in self._vals

    def __len__(self) -> int:
        return len(self._vals)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._vals)

    def __getitem__(self, key: Hashable) -> Any:
        value = self._vals.get(key, _MARKER)
        if value is _MARKER:
            self._misses += 1
            return self.__missing__(key)
        self._hits += 1
        self._touch(self._id[key])
        return value

    def get(self, key: Hashable, default: Any = None) -> Any:
        """``cache[key]`` if present (a hit), else ``default`` (a miss)."""
        value = self._vals.get(key, _MARKER)
        if value is _MARKER:
            self._misses += 1
            return default
        self._hits += 1
        self._touch(self._id[key])
        return value

    def __setitem__(self, key: Hashable, value: Any) -> None:
        vals = self._vals
        if key in vals:
            vals[key] = value
            self._touch(self._id[key])
            return
        idx = self._id.get(key)
        if idx is None:  # DenseIds.index, inlined (this is the miss path), or a freed id
            keys, free = self._keys, self._free
            if free:
                idx = self._id[key] = free.pop()
                keys[idx] = key
            else:
                idx = self._id[key] = len(keys)
                keys.append(key)
        elif self._bound is not None:
            self._gone.pop(idx, None)
        if len(vals) < self._max:  # room: an admission that cannot evict
            self._touch(idx)
        elif self._own_popitem:  # popitem's eviction for this miss, inlined
            victim = self._evict_for(idx)
            if victim < 0:
                raise RuntimeError("LearnedCache: the engine had room the cache did not")
            del vals[self._keys[victim]]
            self._evictions += 1
            if self._bound is not None:
                self._left(victim)
        else:
            self._incoming = idx
            try:
                # cachetools' contract: popitem() makes the room; the policy decides there.
                while len(vals) >= self._max:
                    self.popitem()
            finally:
                pending, self._incoming = self._incoming, -1
            if pending >= 0:  # a popitem override made room without asking the policy
                self._touch(pending)
        vals[key] = value

    def popitem(self) -> tuple[Hashable, Any]:
        """Evict and return the victim: the policy's during an insertion; called directly
        (no incoming miss for the policy to judge), the oldest inserted key, as
        ``cachetools.Cache.popitem`` does."""
        vals = self._vals
        if not vals:
            raise KeyError(f"{type(self).__name__} is empty")
        if self._incoming >= 0:
            victim = self._evict_for(self._incoming)
            self._incoming = -1
            if victim < 0:
                raise RuntimeError("LearnedCache: the engine had room the cache did not")
            key = self._keys[victim]
        else:
            key = next(iter(vals))
            victim = self._id[key]
            self._engine.remove(victim)
        self._evictions += 1
        if self._bound is not None:
            self._left(victim)
        return key, vals.pop(key)

    def _left(self, idx: int) -> None:
        """``idx``'s key left the cache: beyond the bound, forget the one gone longest."""
        gone = self._gone
        gone[idx] = None
        if len(gone) > self._bound:
            old = next(iter(gone))
            del gone[old]
            del self._id[self._keys[old]]
            self._keys[old] = None
            self._engine.forget(old)
            self._free.append(old)

    def __delitem__(self, key: Hashable) -> None:
        del self._vals[key]
        idx = self._id[key]
        self._engine.remove(idx)
        if self._bound is not None:
            self._left(idx)

    def pop(self, key: Hashable, default: Any = _MARKER) -> Any:
        """Remove ``key`` and return its value (not a lookup: no hit counted)."""
        if key in self._vals:
            value = self._vals[key]
            del self[key]
            return value
        if default is _MARKER:
            raise KeyError(key)
        return default

    def setdefault(self, key: Hashable, default: Any = None) -> Any:
        """``cache[key]`` if present (a hit), else store ``default`` and return it."""
        if key in self._vals:
            return self[key]
        self[key] = default
        return default

    def clear(self) -> None:
        """Empty the cache; the policy's history of the keys is forgotten too."""
        self._start()

    def __copy__(self) -> LearnedCache:
        raise TypeError("LearnedCache cannot be copied: its engine state is not shareable")


class LockedCache(MutableMapping):
    """Every operation on ``cache`` under one lock (a ``threading.RLock`` by default).

    ``@cached(LockedCache(LearnedCache(1000)))`` is safe to call from several threads;
    ``@cached(cache, lock=threading.Lock())`` is cachetools' own way to the same end.
    """

    def __init__(self, cache: MutableMapping, lock: Any = None) -> None:
        self.cache = cache
        self.lock = threading.RLock() if lock is None else lock

    def __getitem__(self, key: Hashable) -> Any:
        with self.lock:
            return self.cache[key]

    def __setitem__(self, key: Hashable, value: Any) -> None:
        with self.lock:
            self.cache[key] = value

    def __delitem__(self, key: Hashable) -> None:
        with self.lock:
            del self.cache[key]

    def __contains__(self, key: object) -> bool:
        with self.lock:
            return key in self.cache

    def __len__(self) -> int:
        with self.lock:
            return len(self.cache)

    def __iter__(self) -> Iterator[Hashable]:
        with self.lock:
            return iter(list(self.cache))

    def get(self, key: Hashable, default: Any = None) -> Any:
        """``cache.get`` under the lock."""
        with self.lock:
            return self.cache.get(key, default)

    def pop(self, key: Hashable, default: Any = _MARKER) -> Any:
        """``cache.pop`` under the lock."""
        with self.lock:
            return self.cache.pop(key) if default is _MARKER else self.cache.pop(key, default)

    def popitem(self) -> tuple[Hashable, Any]:
        """``cache.popitem`` under the lock."""
        with self.lock:
            return self.cache.popitem()

    def clear(self) -> None:
        """``cache.clear`` under the lock."""
        with self.lock:
            self.cache.clear()

    def __getattr__(self, name: str) -> Any:
        # stats, maxsize, currsize, popitem...: the wrapped cache's, read under the lock.
        if name in ("cache", "lock"):
            raise AttributeError(name)
        with self.lock:
            return getattr(self.cache, name)
