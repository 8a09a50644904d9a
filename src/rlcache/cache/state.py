"""An incremental cache over a trace window, where an outside chooser picks each victim.

``CacheState`` replays requests and serves hits itself; on a miss with a full cache it
stops (``advance`` returns True) and waits for ``evict(victim)``. Meanwhile it keeps cheap
per-object metadata and answers "who would LRU / LFU / FIFO / MRU / random evict?" in
amortized O(1) or O(log n), so the classic policies are actions the chooser can take.

All times are request indices *within the window* (0 at ``start``). Objects are named by
``Trace.object_index`` values (``trace.object_id(x)`` gives the trace's own id).
"""

from __future__ import annotations

import heapq
import random
from array import array
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from rlcache.cache.policies import HALF_LIFE_CAPACITIES, check_capacity
from rlcache.cache.trace import NEVER, Trace
from rlcache.cache.victims import ALL_SOURCES, EXTRA_SOURCES, SOURCES, VictimSources

if TYPE_CHECKING:
    from rlcache.cache.shadow import ShadowSources

__all__ = ["ALL_SOURCES", "EXTRA_SOURCES", "SOURCES", "CacheState"]

class CacheState(VictimSources):
    """Step-by-step replay of ``trace[start:stop]`` through a cache of ``capacity`` objects.

    Public per-object lists (index = object): ``freq`` (accesses since insertion, 0 when
    not resident), ``count`` (accesses in the window so far), ``first_access``,
    ``last_access``, ``insert_time``, ``last_gap`` (gap between its last two accesses, 0
    after one), ``next_use`` (window time of its next request, ``NEVER`` if none in the
    trace; oracle knowledge, for shaping or analysis only) and ``returns`` (times it was
    requested again while in the ghost list).

    ``dcount`` is a decayed access count (history before eviction included): each access
    weighs ``2 ** -(age / half_life)``, ``half_life`` requests (default 8 x capacity).
    It is stored scaled (``dcount[x] * decay_now()`` is the value at the current time),
    so an access costs one add; read it with :meth:`decayed_count`.
    """

    #: Rebase the scaled decayed counts every ``_EPOCH`` half-lives (keeps floats finite).
    _EPOCH = 256

    def __init__(
        self,
        trace: Trace,
        capacity: int,
        seed: int = 0,
        start: int = 0,
        stop: int | None = None,
        ghost_size: int | None = None,
        half_life: float | None = None,
    ) -> None:
        self.trace = trace
        self.capacity = check_capacity(capacity)
        self._init_window(trace, start, stop)
        size = trace.index_size
        self._init_per_object(size)
        self._init_decay(size, half_life)
        self.ghost: OrderedDict[int, int] = OrderedDict()
        self.ghost_size = self.capacity if ghost_size is None else int(ghost_size)
        self.rng = random.Random(seed)
        self.t = 0
        self.hits = 0
        self.evictions = 0
        self.ghost_hits = 0
        self._pending = -1
        self._init_sources(size)
        self._shadow: ShadowSources | None = None  # the opt-in EXTRA_SOURCES, made on demand

    def _init_window(self, trace: Trace, start: int, stop: int | None) -> None:
        """The requests ``[start, stop)`` and their next uses, relative to ``start``."""
        n_total = len(trace)
        stop = n_total if stop is None else min(stop, n_total)
        if not 0 <= start <= stop:
            raise ValueError(f"bad window [{start}, {stop}) for a trace of {n_total}")
        self.start, self.stop = start, stop
        self._req: list[int] = trace.object_index[start:stop].tolist()
        nxt = trace.next_access[start:stop]
        self._next: list[int] = np.where(nxt == NEVER, NEVER, nxt - start).tolist()
        self._n = stop - start
        self._m = self._n + 1

    def _init_per_object(self, size: int) -> None:
        """The per-object statistics, indexed by object index."""
        self.freq = [0] * size
        self.count = [0] * size
        self.first_access = [-1] * size
        self.last_access = [-1] * size
        self.insert_time = [-1] * size
        self.last_gap = [0] * size
        self.next_use = [NEVER] * size
        self.returns = [0] * size

    def _init_decay(self, size: int, half_life: float | None) -> None:
        """The decayed access counts and their per-access weights."""
        self.half_life = (HALF_LIFE_CAPACITIES * self.capacity if half_life is None
                          else float(half_life))
        if not self.half_life > 0:
            raise ValueError(f"half_life must be > 0, got {half_life}")
        # Access k adds _w[k] = 2 ** ((k - base) / half_life) to dcount, base the start of
        # its epoch of _period requests; at each epoch boundary dcount is rebased.
        self._period = max(1, int(self._EPOCH * self.half_life))
        self._w = array("d", np.exp2(
            (np.arange(self._n, dtype=np.float64) % self._period) / self.half_life).tobytes())
        self._epoch_end = self._period
        self.dcount = array("d", bytes(8 * size))

    def _init_sources(self, size: int) -> None:
        """The residents and each victim source's structure over them."""
        self._lru: deque[int] = deque()
        self._fifo: deque[int] = deque()
        self._lfu: list[int] = []
        self._lfu_key = [-1] * size
        # LRFU: lazy min-heap of (stored dcount, object); ``_lrfu_key`` holds each
        # resident's live entry (-1 when not resident), as for LFU.
        self._lrfu: list[tuple[float, int]] = []
        self._lrfu_key = array("d", [-1.0]) * size
        self.slots: list[int] = []
        self._pos = [0] * size
        self._source_fns: dict[str, Callable[[], int]] = {
            "lru": self.lru_victim,
            "lfu": self.lfu_victim,
            "fifo": self.fifo_victim,
            "mru": self.mru_victim,
            "lrfu": self.lrfu_victim,
            "random": self.random_victim,
        }

    # ---- progress -------------------------------------------------------------------
    @property
    def requests(self) -> int:
        """Requests served so far (the pending one excluded)."""
        return self.t

    @property
    def done(self) -> bool:
        """True once every request of the window has been served."""
        return self.t >= self._n

    @property
    def pending(self) -> int | None:
        """The missing object waiting for an eviction, or None."""
        return self._pending if self._pending >= 0 else None

    @property
    def occupancy(self) -> int:
        """Number of resident objects."""
        return len(self.slots)

    def __len__(self) -> int:
        return self._n

    def is_resident(self, obj: int) -> bool:
        """Whether ``obj`` is in the cache."""
        return self.freq[obj] > 0

    def residents(self) -> list[int]:
        """The resident objects (a copy, in slot order)."""
        return list(self.slots)

    def mean_gap(self, obj: int) -> float:
        """Mean inter-arrival gap of ``obj`` in the window (0 if seen at most once)."""
        c = self.count[obj]
        return (self.last_access[obj] - self.first_access[obj]) / (c - 1) if c > 1 else 0.0

    def advance(self, until: int | None = None) -> bool:
        """Serve requests until an eviction is needed (True) or the window/``until`` ends."""
        if self._pending >= 0:
            return True
        end = self._n if until is None else min(until, self._n)
        req, nxt = self._req, self._next
        freq, count, last = self.freq, self.count, self.last_access
        gap, nu = self.last_gap, self.next_use
        lru_append = self._lru.append
        cap = self.capacity
        slots = self.slots
        insert = self._insert
        dc, w = self.dcount, self._w
        k = self.t
        hits = 0
        while True:
            stop = end if end < self._epoch_end else self._epoch_end
            while k < stop:
                x = req[k]
                f = freq[x]
                if f:
                    hits += 1
                    freq[x] = f + 1
                    count[x] += 1
                    dc[x] += w[k]
                    gap[x] = k - last[x]
                    last[x] = k
                    nu[x] = nxt[k]
                    lru_append(k)
                elif len(slots) >= cap:
                    self._pending = x
                    break
                else:
                    insert(x, k, len(slots))
                k += 1
            if self._pending >= 0 or k >= end:
                break
            self.t = k
            self._rebase()
        self.t = k
        self.hits += hits
        return self._pending >= 0

    def _rebase(self) -> None:
        """Enter the next epoch: rescale ``dcount`` to the new base (in place)."""
        f = 2.0 ** (-self._period / self.half_life)
        dc = np.frombuffer(self.dcount, dtype=np.float64)
        dc *= f
        # The LRFU keys scale with the counts (same factor, same rounding), so live entries
        # still equal their object's count and the heap order is kept.
        keys = np.frombuffer(self._lrfu_key, dtype=np.float64)
        keys[keys > 0] *= f
        self._lrfu = [(key * f, y) for key, y in self._lrfu]
        self._epoch_end += self._period

    def decay_now(self) -> float:
        """Factor turning stored ``dcount`` values into decayed counts at time ``t``."""
        return 2.0 ** ((self._epoch_end - self._period - self.t) / self.half_life)

    def decayed_count(self, obj: int) -> float:
        """Decayed access count of ``obj`` at the current time (0 if never accessed)."""
        return self.dcount[obj] * self.decay_now()

    def evict(self, victim: int) -> None:
        """Evict resident ``victim`` and admit the pending object (the request is served)."""
        x = self._pending
        if x < 0:
            raise RuntimeError("evict() called with no pending miss; call advance() first")
        if not self.freq[victim]:
            raise ValueError(f"object {victim} is not resident")
        k = self.t
        self.freq[victim] = 0
        self._lfu_key[victim] = -1
        self._lrfu_key[victim] = -1.0
        ghost = self.ghost
        ghost[victim] = k
        if len(ghost) > self.ghost_size:
            ghost.popitem(False)
        self.evictions += 1
        self._pending = -1
        self._insert(x, k, self._pos[victim])
        self.t = k + 1

    def step(self, victim: int) -> bool:
        """``evict(victim)`` then ``advance()``: True when the next decision is pending."""
        self.evict(victim)
        return self.advance()

    def play(self, source: str, until: int | None = None) -> None:
        """Serve requests up to ``until`` (default: the end), evicting ``source``'s victim."""
        choose = self._source(source)
        while self.advance(until):
            self.evict(choose())

    def _insert(self, x: int, k: int, slot: int) -> None:
        ghost = self.ghost
        if x in ghost:
            del ghost[x]
            self.returns[x] += 1
            self.ghost_hits += 1
        c = self.count[x]
        if c:
            self.last_gap[x] = k - self.last_access[x]
        else:
            self.first_access[x] = k
        self.count[x] = c + 1
        d = self.dcount[x] + self._w[k]
        self.dcount[x] = d
        heapq.heappush(self._lrfu, (d, x))
        self._lrfu_key[x] = d
        self.freq[x] = 1
        self.last_access[x] = k
        self.insert_time[x] = k
        self.next_use[x] = self._next[k]
        self._lru.append(k)
        self._fifo.append(k)
        key = self._m + k
        heapq.heappush(self._lfu, key)
        self._lfu_key[x] = key
        if slot == len(self.slots):
            self.slots.append(x)
        else:
            self.slots[slot] = x
        self._pos[x] = slot

    def in_ghost(self, obj: int) -> bool:
        """Whether ``obj`` was evicted recently (still in the ghost list)."""
        return obj in self.ghost
