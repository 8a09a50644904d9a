"""SIEVE (Zhang et al., NSDI'24) over unit-size objects, as libCacheSim's ``Sieve.c`` does it.

One FIFO queue, newest at the head, and a hand that walks from the tail toward the head:
a hit only sets the object's visited bit; to evict, the hand clears visited bits until it
finds an unvisited object, evicts it and stays where it was (wrapping to the tail).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def sieve_hits(req: np.ndarray, size: int, cap: int) -> int:
    """Hits of SIEVE over ``req`` (int64 object indices below ``size``) with ``cap`` objects."""
    return int(_sieve(np.ascontiguousarray(req, dtype=np.int64), size, cap))


@njit(cache=True, nogil=True)
def _sieve(req, size, cap):  # pragma: no cover - compiled
    # A doubly linked list over object indices; ``newer`` points toward the head.
    newer = np.full(size, -1, np.int64)
    older = np.full(size, -1, np.int64)
    resident = np.zeros(size, np.uint8)
    visited = np.zeros(size, np.uint8)
    head = -1
    tail = -1
    hand = -1
    used = 0
    hits = 0
    for i in range(req.shape[0]):
        x = req[i]
        if resident[x]:
            visited[x] = 1
            hits += 1
            continue
        if used >= cap:
            y = tail if hand < 0 else hand
            while visited[y]:
                visited[y] = 0
                y = tail if newer[y] < 0 else newer[y]
            hand = newer[y]
            # Unlink y.
            a = older[y]
            b = newer[y]
            if a >= 0:
                newer[a] = b
            else:
                tail = b
            if b >= 0:
                older[b] = a
            else:
                head = a
            resident[y] = 0
        else:
            used += 1
        resident[x] = 1
        visited[x] = 0
        older[x] = head
        newer[x] = -1
        if head >= 0:
            newer[head] = x
        head = x
        if tail < 0:
            tail = x
    return hits
