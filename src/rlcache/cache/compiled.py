"""Compiled (numba) whole-trace replays of LRU, FIFO, MRU, LFU, ARC and Belady.

Each gives exactly the hits of its pure-Python twin in ``policies.py`` / ``arc.py``, which
stay as the readable reference the tests compare against; these run 10-100x faster.
Arrays are int64 object indices (``Trace.object_index``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def lru_hits(req, size, cap):  # pragma: no cover
    """Hits of LRU (a doubly linked list over object indices, most recent at the head)."""
    newer = np.full(size, -1, np.int64)
    older = np.full(size, -1, np.int64)
    resident = np.zeros(size, np.uint8)
    head = -1
    tail = -1
    used = 0
    hits = 0
    for i in range(req.shape[0]):
        x = req[i]
        if resident[x]:
            hits += 1
            if x == head:
                continue
            a = older[x]
            b = newer[x]
            if a >= 0:
                newer[a] = b
            else:
                tail = b
            older[b] = a
        else:
            if used >= cap:
                y = tail
                tail = newer[y]
                if tail >= 0:
                    older[tail] = -1
                else:
                    head = -1
                resident[y] = 0
            else:
                used += 1
            resident[x] = 1
        older[x] = head
        newer[x] = -1
        if head >= 0:
            newer[head] = x
        head = x
        if tail < 0:
            tail = x
    return hits


@njit(cache=True, nogil=True)
def fifo_hits(req, size, cap):  # pragma: no cover
    """Hits of FIFO (a ring of the residents in insertion order)."""
    resident = np.zeros(size, np.uint8)
    ring = np.empty(cap, np.int64)
    head = 0
    used = 0
    hits = 0
    for i in range(req.shape[0]):
        x = req[i]
        if resident[x]:
            hits += 1
            continue
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


@njit(cache=True, nogil=True)
def mru_hits(req, size, cap):  # pragma: no cover
    """Hits of MRU (the most recently used resident is the previous request's object)."""
    resident = np.zeros(size, np.uint8)
    prev = -1
    used = 0
    hits = 0
    for i in range(req.shape[0]):
        x = req[i]
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


@njit(cache=True, nogil=True)
def _sift_up(heap, pos):  # pragma: no cover
    item = heap[pos]
    while pos > 0:
        parent = (pos - 1) >> 1
        if heap[parent] <= item:
            break
        heap[pos] = heap[parent]
        pos = parent
    heap[pos] = item


@njit(cache=True, nogil=True)
def _sift_down(heap, n, pos):  # pragma: no cover
    item = heap[pos]
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= item:
            break
        heap[pos] = heap[child]
        pos = child
    heap[pos] = item


@njit(cache=True, nogil=True)
def lfu_hits(req, size, cap):  # pragma: no cover
    """Hits of LFU, ties to the least recent: the lazy min-heap of ``policies.lfu_hits``."""
    n = req.shape[0]
    m = n + 1
    freq = np.zeros(size, np.int64)
    last = np.zeros(size, np.int64)
    heap = np.empty(cap + 1, np.int64)
    used = 0
    hits = 0
    for i in range(n):
        x = req[i]
        f = freq[x]
        if f:
            hits += 1
            freq[x] = f + 1
            last[x] = i
            continue
        if used >= cap:
            while True:
                f0 = heap[0] // m
                t0 = heap[0] % m
                y = req[t0]
                if freq[y] == f0 and last[y] == t0:
                    break
                heap[0] = freq[y] * m + last[y]
                _sift_down(heap, used, 0)
            freq[y] = 0
            heap[0] = m + i
            _sift_down(heap, used, 0)
        else:
            heap[used] = m + i
            used += 1
            _sift_up(heap, used - 1)
        freq[x] = 1
        last[x] = i
    return hits


@njit(cache=True, nogil=True)
def belady_hits(nxt, cap, never):  # pragma: no cover
    """Hits of Belady's MIN from next-access indices (``never`` = no next use)."""
    n = nxt.shape[0]
    alive = np.zeros(n, np.uint8)
    # Max-heap of next uses (stored negated). Entries at or before now are stale but never
    # reach the top while a live one exists (see policies.belady_hits).
    heap = np.empty(n + 1, np.int64)
    size = 0
    dead = 0
    used = 0
    hits = 0
    for i in range(n):
        j = nxt[i]
        if alive[i]:
            hits += 1
        elif used >= cap:
            if dead:
                dead -= 1
            else:
                alive[-heap[0]] = 0
                size -= 1
                heap[0] = heap[size]
                _sift_down(heap, size, 0)
        else:
            used += 1
        if j == never:
            dead += 1
        else:
            alive[j] = 1
            heap[size] = -j
            size += 1
            _sift_up(heap, size - 1)
    return hits


@njit(cache=True, nogil=True, inline="always")
def _append(first, last, newer, older, lst, x):  # pragma: no cover
    older[x] = last[lst]
    newer[x] = -1
    if last[lst] >= 0:
        newer[last[lst]] = x
    else:
        first[lst] = x
    last[lst] = x


@njit(cache=True, nogil=True, inline="always")
def _unlink(first, last, newer, older, lst, x):  # pragma: no cover
    a = older[x]
    b = newer[x]
    if a >= 0:
        newer[a] = b
    else:
        first[lst] = b
    if b >= 0:
        older[b] = a
    else:
        last[lst] = a


@njit(cache=True, nogil=True, inline="always")
def _pop_oldest(first, last, newer, older, lst):  # pragma: no cover
    y = first[lst]
    _unlink(first, last, newer, older, lst, y)
    return y


@njit(cache=True, nogil=True)
def arc_hits(req, size, cap):  # pragma: no cover
    """Hits of ARC, step for step ``arc.arc_hits`` (lists 1 = T1, 2 = T2, 3 = B1, 4 = B2)."""
    where = np.zeros(size, np.uint8)
    newer = np.full(size, -1, np.int64)
    older = np.full(size, -1, np.int64)
    first = np.full(5, -1, np.int64)
    last = np.full(5, -1, np.int64)
    n1 = 0
    n2 = 0
    g1 = 0
    g2 = 0
    p = 0
    hits = 0
    for i in range(req.shape[0]):
        x = req[i]
        w = where[x]
        if w == 2:
            _unlink(first, last, newer, older, 2, x)
            _append(first, last, newer, older, 2, x)
            hits += 1
            continue
        if w == 1:
            _unlink(first, last, newer, older, 1, x)
            _append(first, last, newer, older, 2, x)
            where[x] = 2
            n1 -= 1
            n2 += 1
            hits += 1
            continue
        # A miss. REPLACE (T1's or T2's oldest becomes a ghost) comes first, unless the
        # cache has room or a full T1 + B1 drops T1's oldest outright.
        in_b2 = w == 4
        replace = True
        if w >= 3:
            p = max(p - max(g1 // g2, 1), 0) if in_b2 else min(p + max(g2 // g1, 1), cap)
            from_t1 = n1 > 0 and (n1 > p or (n1 == p and in_b2))
        else:
            from_t1 = n1 > 0 and n1 > p
            if n1 + n2 < cap:
                replace = False
            elif n1 + g1 >= cap:
                if n1 < cap:
                    where[_pop_oldest(first, last, newer, older, 3)] = 0
                    g1 -= 1
                else:
                    where[_pop_oldest(first, last, newer, older, 1)] = 0
                    n1 -= 1
                    replace = False
            elif n1 + g1 + n2 + g2 >= 2 * cap:
                where[_pop_oldest(first, last, newer, older, 4)] = 0
                g2 -= 1
        if replace:
            if from_t1:
                y = _pop_oldest(first, last, newer, older, 1)
                _append(first, last, newer, older, 3, y)
                where[y] = 3
                n1 -= 1
                g1 += 1
            else:
                y = _pop_oldest(first, last, newer, older, 2)
                _append(first, last, newer, older, 4, y)
                where[y] = 4
                n2 -= 1
                g2 += 1
        if w >= 3:
            if in_b2:
                _unlink(first, last, newer, older, 4, x)
                g2 -= 1
            else:
                _unlink(first, last, newer, older, 3, x)
                g1 -= 1
            _append(first, last, newer, older, 2, x)
            where[x] = 2
            n2 += 1
        else:
            _append(first, last, newer, older, 1, x)
            where[x] = 1
            n1 += 1
    return hits
