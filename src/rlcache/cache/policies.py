"""Classic eviction policies over unit-size objects, replayed over a whole trace.

The registry (``rlcache.cache.registry``) names them and dispatches; here are the loops.
Each ``name_hits`` function takes the trace's requests as a Python list of small ints
(``Trace.object_index``), the per-object array length and the capacity in objects, and
returns the number of hits. They are tight loops over Python ints with C containers
(``OrderedDict``, ``bytearray``, ``heapq``): measured, this beats numpy-per-request code.
"""

from __future__ import annotations

import heapq
import random
from collections import OrderedDict
from dataclasses import dataclass

from rlcache.cache.trace import NEVER
from rlcache.errors import UserError

#: Default half-life of decayed access counts, in capacities: LRFU's and the env's ``dfreq``.
HALF_LIFE_CAPACITIES = 8.0


@dataclass(frozen=True)
class SimResult:
    """Outcome of replaying a trace through one policy."""

    policy: str
    capacity: int
    hits: int
    requests: int

    @property
    def hit_ratio(self) -> float:
        """Hits divided by requests (0 for an empty trace)."""
        return self.hits / self.requests if self.requests else 0.0

    @property
    def miss_ratio(self) -> float:
        """Misses divided by requests (0 for an empty trace)."""
        return 1.0 - self.hit_ratio if self.requests else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """``{hits, requests, hit_ratio, miss_ratio}``."""
        return {
            "hits": self.hits,
            "requests": self.requests,
            "hit_ratio": self.hit_ratio,
            "miss_ratio": self.miss_ratio,
        }


def lru_hits(req: list[int], size: int, cap: int) -> int:
    """Hits of LRU (evict the least recently used)."""
    od: OrderedDict[int, None] = OrderedDict()
    touch = od.move_to_end
    pop = od.popitem
    hits = 0
    used = 0
    for x in req:
        if x in od:
            touch(x)
            hits += 1
        else:
            if used >= cap:
                pop(False)
            else:
                used += 1
            od[x] = None
    return hits


def fifo_hits(req: list[int], size: int, cap: int) -> int:
    """Hits of FIFO (evict the oldest insertion)."""
    resident = bytearray(size)
    ring = [0] * cap
    head = 0
    used = 0
    hits = 0
    for x in req:
        if resident[x]:
            hits += 1
        else:
            if used >= cap:
                resident[ring[head]] = 0
            else:
                used += 1
            resident[x] = 1
            ring[head] = x
            head += 1
            if head == cap:
                head = 0
    return hits


def mru_hits(req: list[int], size: int, cap: int) -> int:
    """Hits of MRU (evict the most recently used)."""
    # The most recently used resident is always the previous request's object.
    resident = bytearray(size)
    prev = -1
    used = 0
    hits = 0
    for x in req:
        if resident[x]:
            hits += 1
        else:
            if used >= cap:
                resident[prev] = 0
            else:
                used += 1
            resident[x] = 1
        prev = x
    return hits


def lfu_hits(req: list[int], size: int, cap: int) -> int:
    """Hits of LFU (evict the least frequently used, ties to the least recent)."""
    # Evict the least frequent resident, ties to the least recently used. A min-heap holds
    # one key per resident, freq * m + last_access, updated lazily: a hit only bumps the
    # counters, so a stored key is a lower bound of the true one. A popped key that is
    # still current is therefore the true minimum; a stale one is re-pushed with its
    # current key. The object of a key is ``req[last_access]``.
    m = len(req) + 1
    freq = [0] * size
    last = [0] * size
    heap: list[int] = []
    replace = heapq.heapreplace
    push = heapq.heappush
    used = 0
    hits = 0
    for i, x in enumerate(req):
        f = freq[x]
        if f:
            hits += 1
            freq[x] = f + 1
            last[x] = i
            continue
        if used >= cap:
            while True:
                f0, t0 = divmod(heap[0], m)
                y = req[t0]
                if freq[y] == f0 and last[y] == t0:
                    break
                replace(heap, freq[y] * m + last[y])
            freq[y] = 0
            replace(heap, m + i)
        else:
            used += 1
            push(heap, m + i)
        freq[x] = 1
        last[x] = i
    return hits


def random_hits(req: list[int], size: int, cap: int, seed: int = 0) -> int:
    """Hits of RANDOM (evict a uniformly random resident, seeded)."""
    # Residents sit in slots; a newcomer takes its victim's slot (CacheState does the same).
    rng = random.Random(seed)
    pick = rng.randrange
    resident = bytearray(size)
    slots: list[int] = []
    hits = 0
    for x in req:
        if resident[x]:
            hits += 1
        else:
            if len(slots) >= cap:
                k = pick(cap)
                resident[slots[k]] = 0
                slots[k] = x
            else:
                slots.append(x)
            resident[x] = 1
    return hits


def belady_hits(next_access: list[int], cap: int) -> int:
    """Hits of Belady's MIN given each request's next-access index (``NEVER`` for none)."""
    # A resident object is named by the index of its next request, so request i hits iff
    # ``alive[i]``. The max-heap holds -next; entries at or before now are stale but never
    # reach the top while a live one exists, so no lazy-deletion check is needed. Residents
    # with no future use are interchangeable and only counted (``dead``), evicted first.
    n = len(next_access)
    alive = bytearray(n)
    heap: list[int] = []
    push = heapq.heappush
    pop = heapq.heappop
    dead = 0
    used = 0
    hits = 0
    limit = 4 * cap + 1024
    for i, j in enumerate(next_access):
        if alive[i]:
            hits += 1
        elif used >= cap:
            if dead:
                dead -= 1
            else:
                alive[-pop(heap)] = 0
        else:
            used += 1
        if j == NEVER:
            dead += 1
        else:
            alive[j] = 1
            push(heap, -j)
            if len(heap) > limit:
                heap = [k for k in heap if -k > i]
                heapq.heapify(heap)
    return hits


def check_capacity(capacity: int) -> int:
    """Validate a capacity in objects (a positive int) and return it."""
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise UserError(f"cache capacity must be a positive number of objects, got {capacity!r}")
    return capacity
