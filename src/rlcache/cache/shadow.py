"""The opt-in shadow candidate sources of a ``CacheState``: ``cold``, ``hot``, ``clock``.

``cold`` is the victim of ARC's T1 / S3FIFO's small queue (inserted longest ago, never hit
since), ``hot`` ARC's T2 victim (least recently used among the residents hit since
insertion), ``clock`` the second-chance victim. They let an agent take a modern
heuristic's choice; ``CacheState`` builds them on first use.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rlcache.cache.state import CacheState


class ShadowSources:
    """The ``cold``, ``hot`` and ``clock`` victims over a ``CacheState``'s residents.

    Kept lazily from the state's own LRU and FIFO logs (their new entries are read at
    each proposal), so the replay loop pays nothing for them and a state that never
    asks for them is unchanged. Each is amortized O(1) per proposal.
    """

    def __init__(self, st: CacheState) -> None:
        self.st = st
        self._cold: deque[int] = deque()   # insertion times, oldest first
        self._hot: deque[int] = deque()    # hit times, oldest first
        self._clock: deque[tuple[int, int]] = deque()  # (object, stamp), hand at the left
        self._fifo_seen = -1               # newest insertion time already read
        self._lru_seen = -1                # newest access time already read
        size = st.trace.index_size
        self._ref = [0] * size             # freq when clock last passed (or inserted) it
        self._stamp = [0] * size
        self._passes = 0

    def _sync(self) -> None:
        """Read the insertions and hits logged since the last proposal."""
        st = self.st
        req, freq, ins, last = st._req, st.freq, st.insert_time, st.last_access
        grow = len(freq) - len(self._ref)
        if grow > 0:  # a state whose trace grows online (rlcache.serve) added objects
            self._ref += [0] * grow
            self._stamp += [0] * grow
        new: list[int] = []
        for k in reversed(st._fifo):
            if k <= self._fifo_seen:
                break
            new.append(k)
        for k in reversed(new):
            y = req[k]
            if freq[y] and ins[y] == k:
                self._cold.append(k)
                self._clock.append((y, k))
                self._ref[y] = 1
                self._stamp[y] = k
        if new:
            self._fifo_seen = new[0]
        new = []
        for k in reversed(st._lru):
            if k <= self._lru_seen:
                break
            new.append(k)
        for k in reversed(new):
            y = req[k]
            if freq[y] > 1 and last[y] == k and ins[y] != k:
                self._hot.append(k)
        if new:
            self._lru_seen = new[0]

    def _oldest_live(self, dq: deque[int], live: Callable[[int, int], bool]) -> int:
        """The object of ``dq``'s oldest entry still ``live`` (stale ones dropped), else
        LRU's victim."""
        st = self.st
        st._need_residents()
        self._sync()
        req = st._req
        while dq:
            y = req[dq[0]]
            if live(y, dq[0]):
                return y
            dq.popleft()
        return st.lru_victim()

    def cold_victim(self) -> int:
        """The resident inserted longest ago that was never hit since (else LRU's)."""
        freq, ins = self.st.freq, self.st.insert_time
        return self._oldest_live(self._cold, lambda y, k: freq[y] == 1 and ins[y] == k)

    def hot_victim(self) -> int:
        """The least recently used resident hit at least once since insertion (else LRU's)."""
        freq, last = self.st.freq, self.st.last_access
        return self._oldest_live(self._hot, lambda y, k: freq[y] > 1 and last[y] == k)

    def clock_victim(self) -> int:
        """CLOCK: from the hand, the first resident not accessed since the hand last
        passed it; the ones accessed get a second chance (moved behind, reference cleared)."""
        st = self.st
        st._need_residents()
        self._sync()
        dq, freq, ref, stamp = self._clock, st.freq, self._ref, self._stamp
        while True:
            y, s = dq[0]
            if not freq[y] or stamp[y] != s:
                dq.popleft()
            elif freq[y] > ref[y]:
                dq.popleft()
                ref[y] = freq[y]
                self._passes += 1
                stamp[y] = -self._passes   # negative: never an insertion time
                dq.append((y, -self._passes))
            else:
                return y
