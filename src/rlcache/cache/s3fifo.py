"""S3-FIFO (Yang et al., SOSP'23) over unit-size objects, as libCacheSim's ``S3FIFO.c`` does it.

A small FIFO (10% of the capacity) takes new objects; one requested at least twice while
there moves to the main FIFO, the others leave and are remembered in a ghost FIFO (90% of
the capacity, ids only). A miss on a ghost goes straight to main. Main is a CLOCK with a
2-bit counter: a requested object is reinserted with its count lowered. Until the first
eviction, a full small FIFO sends newcomers to main (libCacheSim's current variant).

libCacheSim cannot run caches below about 20 objects (its small FIFO must be larger than
an object); here the small FIFO has at least one slot, and from 20 objects up the hit
counts are libCacheSim's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SMALL_RATIO = 0.10
GHOST_RATIO = 0.90
MOVE_TO_MAIN = 2

_NONE, _SMALL, _MAIN = 0, 1, 2


def s3fifo_hits(req: np.ndarray, size: int, cap: int) -> int:
    """Hits of S3-FIFO over ``req`` (int64 object indices below ``size``), ``cap`` objects."""
    small = max(1, int(cap * SMALL_RATIO))
    ghost = int(cap * GHOST_RATIO)
    return int(_s3fifo(np.ascontiguousarray(req, dtype=np.int64), size, cap, small, ghost,
                       MOVE_TO_MAIN))


@njit(cache=True, nogil=True, inline="always")
def _push(q, head, ring, x):  # pragma: no cover - compiled
    """Insert ``x`` at the head of ring queue ``q``; the new head."""
    q[head] = x
    return (head + 1) % ring


@njit(cache=True, nogil=True, inline="always")
def _evict_main(mq, ring, freq, where, m_head, m_tail, n_main):  # pragma: no cover - compiled
    """Main's CLOCK with a 2-bit counter: reinsert requested objects with their count lowered
    until one with count 0 leaves; (m_head, m_tail, n_main)."""
    while n_main > 0:
        y = mq[m_tail]
        m_tail = (m_tail + 1) % ring
        f = freq[y]
        if f >= 1:
            freq[y] = min(f, 3) - 1
            m_head = _push(mq, m_head, ring, y)
        else:
            n_main -= 1
            where[y] = _NONE
            break
    return m_head, m_tail, n_main


@njit(cache=True, nogil=True, inline="always")
def _remember(gq, g_stamp, ghost_cap, g_head, g_tail, n_ghost, y):  # pragma: no cover
    """Append ``y`` to the ghost FIFO, first dropping its oldest live entries down to
    ``ghost_cap - 1``; (g_head, g_tail, n_ghost)."""
    while n_ghost + 1 > ghost_cap:
        z = gq[g_tail]
        if g_stamp[z] == g_tail:
            g_stamp[z] = -1
            n_ghost -= 1
        g_tail += 1
    gq[g_head] = y
    g_stamp[y] = g_head
    return g_head + 1, g_tail, n_ghost + 1


@njit(cache=True, nogil=True)
def _s3fifo(req, size, cap, small_cap, ghost_cap, threshold):  # pragma: no cover - compiled
    n = req.shape[0]
    main_cap = cap - small_cap
    where = np.zeros(size, np.uint8)
    freq = np.zeros(size, np.int64)
    # Small and main are queues (insert at the head, leave at the tail): rings of cap + 1.
    ring = cap + 1
    sq = np.empty(ring, np.int64)
    mq = np.empty(ring, np.int64)
    s_head = s_tail = n_small = m_head = m_tail = n_main = 0
    # The ghost also loses entries from inside (a ghost hit): entries are appended once per
    # insertion (at most n) and a stamp tells the live one; dead entries are skipped.
    gq = np.empty(n + 1, np.int64)
    g_stamp = np.full(size, -1, np.int64)
    g_head = g_tail = n_ghost = 0
    has_evicted = False
    hits = 0
    for i in range(n):
        x = req[i]
        if where[x] != _NONE:
            freq[x] += 1
            hits += 1
            continue
        hit_on_ghost = ghost_cap > 0 and g_stamp[x] >= 0
        if hit_on_ghost:
            g_stamp[x] = -1
            n_ghost -= 1
        while n_small + n_main + 1 > cap:
            has_evicted = True
            if n_main > main_cap or n_small == 0:
                m_head, m_tail, n_main = _evict_main(mq, ring, freq, where,
                                                     m_head, m_tail, n_main)
                continue
            # Small: the oldest moves to main if requested enough, else leaves for the ghost.
            while n_small > 0:
                y = sq[s_tail]
                s_tail = (s_tail + 1) % ring
                n_small -= 1
                if freq[y] >= threshold:
                    freq[y] = 0
                    where[y] = _MAIN
                    m_head = _push(mq, m_head, ring, y)
                    n_main += 1
                    continue
                where[y] = _NONE
                if ghost_cap > 0 and g_stamp[y] < 0:
                    g_head, g_tail, n_ghost = _remember(gq, g_stamp, ghost_cap,
                                                        g_head, g_tail, n_ghost, y)
                break
        freq[x] = 0
        if hit_on_ghost or (not has_evicted and n_small >= small_cap):
            where[x] = _MAIN
            m_head = _push(mq, m_head, ring, x)
            n_main += 1
        else:
            where[x] = _SMALL
            s_head = _push(sq, s_head, ring, x)
            n_small += 1
    return hits
