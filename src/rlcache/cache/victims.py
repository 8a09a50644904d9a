"""The candidate sources of :class:`~rlcache.cache.state.CacheState`: their names and how
each proposes its victim over the state's per-object metadata (amortized O(1) or O(log n):
lazy deques for LRU and FIFO, lazy heaps for LFU and LRFU)."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Sequence

SOURCES: tuple[str, ...] = ("lru", "lfu", "fifo", "mru", "lrfu", "random")
#: Opt-in sources kept as shadow state over the chooser's own cache (see
#: :class:`ShadowSources`): ``cold`` (ARC's T1 / S3FIFO's small-queue victim: the oldest
#: resident never hit since insertion), ``hot`` (ARC's T2 victim: the least recently used
#: resident hit at least once) and ``clock`` (CLOCK / SIEVE-like second chance).
EXTRA_SOURCES: tuple[str, ...] = ("cold", "hot", "clock")
ALL_SOURCES: tuple[str, ...] = SOURCES + EXTRA_SOURCES


class VictimSources:
    """The victim proposals, a part of :class:`~rlcache.cache.state.CacheState` (which
    holds every attribute read here)."""

    def _need_residents(self) -> None:
        if not self.slots:
            raise RuntimeError("the cache is empty: no victim to propose")

    def _live_head(self, dq: deque[int], stamp: list[int]) -> int:
        """The object of ``dq``'s oldest live entry: request times, one pushed per access
        (LRU) or insertion (FIFO); an entry is live while it is its resident object's
        ``stamp`` (last access, insertion time). Dead entries are dropped on the way."""
        self._need_residents()
        req, freq = self._req, self.freq
        while True:
            k0 = dq[0]
            y = req[k0]
            if freq[y] and stamp[y] == k0:
                return y
            dq.popleft()

    def lru_victim(self) -> int:
        """The least recently used resident."""
        return self._live_head(self._lru, self.last_access)

    def fifo_victim(self) -> int:
        """The resident inserted longest ago."""
        return self._live_head(self._fifo, self.insert_time)

    def lfu_victim(self) -> int:
        """The resident with the fewest accesses since insertion, ties to the least recent."""
        # Lazy min-heap of freq * m + last_access: stored keys are lower bounds (see
        # policies._lfu_hits); ``_lfu_key`` marks each resident's one live entry, so the
        # entries of evicted objects are recognised and dropped.
        self._need_residents()
        heap, m, req = self._lfu, self._m, self._req
        freq, last, keys = self.freq, self.last_access, self._lfu_key
        if len(heap) > 4 * len(self.slots) + 1024:
            heap[:] = [key for key in heap if keys[req[key % m]] == key]
            heapq.heapify(heap)
        while True:
            key = heap[0]
            f0, k0 = divmod(key, m)
            y = req[k0]
            if keys[y] != key:
                heapq.heappop(heap)
            elif freq[y] == f0 and last[y] == k0:
                return y
            else:
                new = freq[y] * m + last[y]
                heapq.heapreplace(heap, new)
                keys[y] = new

    def lrfu_victim(self) -> int:
        """The resident with the smallest decayed access count (LRFU, Lee et al. 2001).

        Decayed counts all shrink at the same rate, so their order only changes when an
        object is accessed: a lazy heap of stored counts (lower bounds) finds the minimum.
        """
        self._need_residents()
        heap, dc, keys = self._lrfu, self.dcount, self._lrfu_key
        if len(heap) > 4 * len(self.slots) + 1024:
            heap[:] = [(key, y) for key, y in heap if keys[y] == key]
            heapq.heapify(heap)
        while True:
            key, y = heap[0]
            if keys[y] != key:
                heapq.heappop(heap)
                continue
            d = dc[y]
            if d == key:
                return y
            heapq.heapreplace(heap, (d, y))
            keys[y] = d

    def mru_victim(self) -> int:
        """The most recently used resident (the previous request's object)."""
        self._need_residents()
        y = self._req[self.t - 1]
        if not self.freq[y]:  # only after an unusual external eviction; fall back to a scan
            y = max(self.slots, key=self.last_access.__getitem__)
        return y

    def random_victim(self) -> int:
        """A resident drawn uniformly with ``self.rng``."""
        self._need_residents()
        return self.slots[self.rng.randrange(len(self.slots))]

    def victim(self, source: str) -> int:
        """The victim proposed by ``source`` (one of ``SOURCES``)."""
        return self._source(source)()

    def _source(self, source: str) -> Callable[[], int]:
        fn = self._source_fns.get(source)
        if fn is None and source in EXTRA_SOURCES:
            if self._shadow is None:
                from rlcache.cache.shadow import ShadowSources  # shadow names CacheState

                self._shadow = ShadowSources(self)
            fn = getattr(self._shadow, f"{source}_victim")
            self._source_fns[source] = fn
        if fn is None:
            raise ValueError(f"unknown candidate source {source!r}; expected one of "
                             f"{ALL_SOURCES}")
        return fn

    def candidates(self, sources: Sequence[str]) -> list[int]:
        """One proposed victim per source, in order (duplicates possible)."""
        return [self._source(s)() for s in sources]
