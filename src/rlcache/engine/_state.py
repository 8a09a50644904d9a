"""The engine's cache mechanics in numba: CPython's Mersenne Twister, lazy rings and
heaps for the victim sources, insert / evict / rebase (CacheState's, on arrays)."""

from __future__ import annotations

from numba import njit

from rlcache.engine._layout import (
    COUNT,
    DCOUNT,
    EPOCH_END,
    EVICTIONS,
    FIRST,
    FREQ,
    GAP,
    GHOST_HITS,
    GHOST_K,
    GLIVE,
    GSIZE,
    HITS,
    INS,
    LAST,
    LAST_VICTIM,
    LFU_F,
    LFU_K,
    LFU_N,
    LRFU_KEY,
    LRFU_N,
    LRU_H,
    LRU_T,
    MTI,
    NSLOTS,
    PERIOD,
    POS,
    PREV,
    R_FIFO,
    R_GHOST,
    R_LRU,
    REBASE,
    RET,
    SRC_FIFO,
    SRC_LFU,
    SRC_LRFU,
    SRC_LRU,
    SRC_MRU,
    SRC_RANDOM,
    USE_FIFO,
    USE_LFU,
    USE_LRFU,
    USE_LRU,
)


# ---- Mersenne Twister: CPython's random.Random, from its getstate() -------------------
@njit(cache=True, inline="always")
def _genrand(mt, S):
    i = S[MTI]
    if i >= 624:
        for kk in range(624):
            y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % 624] & 0x7FFFFFFF)
            v = mt[(kk + 397) % 624] ^ (y >> 1)
            if y & 1:
                v ^= 0x9908B0DF
            mt[kk] = v
        i = 0
    y = mt[i]
    S[MTI] = i + 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y & 0xFFFFFFFF


@njit(cache=True, inline="always")
def _randbelow(n, mt, S):
    """``random.Random.randrange(n)`` of CPython 3.11 (getrandbits rejection), n < 2**32."""
    k = 0
    while (n >> k) > 0:
        k += 1
    r = _genrand(mt, S) >> (32 - k)
    while r >= n:
        r = _genrand(mt, S) >> (32 - k)
    return r


# ---- rings with lazy deletion (order kept when compacted) -----------------------------
@njit(cache=True, inline="always")
def _live(which, y, k0, iobj):
    if which == R_LRU:
        return iobj[y, FREQ] > 0 and iobj[y, LAST] == k0
    if which == R_FIFO:
        return iobj[y, FREQ] > 0 and iobj[y, INS] == k0
    return iobj[y, GHOST_K] == k0


@njit(cache=True, inline="always")
def _ring_push(rings, S, which, y, k, iobj):
    h, t = S[LRU_H + 2 * which], S[LRU_T + 2 * which]
    if t == rings.shape[1]:  # full: drop the dead entries, keep the order
        j = 0
        for i in range(h, t):
            if _live(which, rings[which, i, 0], rings[which, i, 1], iobj):
                rings[which, j, 0] = rings[which, i, 0]
                rings[which, j, 1] = rings[which, i, 1]
                j += 1
        h, t = 0, j
    rings[which, t, 0] = y
    rings[which, t, 1] = k
    S[LRU_H + 2 * which] = h
    S[LRU_T + 2 * which] = t + 1


@njit(cache=True, inline="always")
def _ring_head(rings, S, which, iobj):
    """The oldest live entry's object (dead ones popped on the way)."""
    h, t = S[LRU_H + 2 * which], S[LRU_T + 2 * which]
    while h < t and not _live(which, rings[which, h, 0], rings[which, h, 1], iobj):
        h += 1
    S[LRU_H + 2 * which] = h
    return rings[which, h, 0] if h < t else -1


# ---- lazy min-heaps --------------------------------------------------------------------
@njit(cache=True, inline="always")
def _lfu_less(hp, a, b):
    return hp[a, 0] < hp[b, 0] or (hp[a, 0] == hp[b, 0] and hp[a, 1] < hp[b, 1])


@njit(cache=True)
def _lfu_swap(hp, a, b):
    for c in range(3):
        hp[a, c], hp[b, c] = hp[b, c], hp[a, c]


@njit(cache=True)
def _lfu_down(hp, n, i):
    while True:
        m, left = i, 2 * i + 1
        if left < n and _lfu_less(hp, left, m):
            m = left
        if left + 1 < n and _lfu_less(hp, left + 1, m):
            m = left + 1
        if m == i:
            return
        _lfu_swap(hp, i, m)
        i = m


@njit(cache=True)
def _lfu_push(hp, S, f, k, y, iobj):
    n = S[LFU_N]
    if n == hp.shape[0]:  # full: keep the live entries only (the minimum is unchanged)
        j = 0
        for i in range(n):
            z = hp[i, 2]
            if iobj[z, LFU_F] == hp[i, 0] and iobj[z, LFU_K] == hp[i, 1]:
                hp[j, 0], hp[j, 1], hp[j, 2] = hp[i, 0], hp[i, 1], z
                j += 1
        n = j
        for i in range(n // 2 - 1, -1, -1):
            _lfu_down(hp, n, i)
    hp[n, 0], hp[n, 1], hp[n, 2] = f, k, y
    i = n
    while i > 0 and _lfu_less(hp, i, (i - 1) // 2):
        _lfu_swap(hp, i, (i - 1) // 2)
        i = (i - 1) // 2
    S[LFU_N] = n + 1


@njit(cache=True)
def _lfu_victim(hp, S, iobj):
    """Fewest accesses since insertion, ties to the least recent (CacheState.lfu_victim)."""
    while True:
        f0, k0, y = hp[0, 0], hp[0, 1], hp[0, 2]
        if iobj[y, LFU_F] != f0 or iobj[y, LFU_K] != k0:
            n = S[LFU_N] - 1
            S[LFU_N] = n
            hp[0, 0], hp[0, 1], hp[0, 2] = hp[n, 0], hp[n, 1], hp[n, 2]
            _lfu_down(hp, n, 0)
        elif iobj[y, FREQ] == f0 and iobj[y, LAST] == k0:
            return y
        else:
            hp[0, 0], hp[0, 1] = iobj[y, FREQ], iobj[y, LAST]
            iobj[y, LFU_F], iobj[y, LFU_K] = hp[0, 0], hp[0, 1]
            _lfu_down(hp, S[LFU_N], 0)


@njit(cache=True, inline="always")
def _rf_less(keys, objs, a, b):
    return keys[a] < keys[b] or (keys[a] == keys[b] and objs[a] < objs[b])


@njit(cache=True)
def _rf_down(keys, objs, n, i):
    while True:
        m, left = i, 2 * i + 1
        if left < n and _rf_less(keys, objs, left, m):
            m = left
        if left + 1 < n and _rf_less(keys, objs, left + 1, m):
            m = left + 1
        if m == i:
            return
        keys[i], keys[m] = keys[m], keys[i]
        objs[i], objs[m] = objs[m], objs[i]
        i = m


@njit(cache=True)
def _rf_push(keys, objs, S, d, y, fobj):
    n = S[LRFU_N]
    if n == keys.shape[0]:
        j = 0
        for i in range(n):
            if fobj[objs[i], LRFU_KEY] == keys[i]:
                keys[j], objs[j] = keys[i], objs[i]
                j += 1
        n = j
        for i in range(n // 2 - 1, -1, -1):
            _rf_down(keys, objs, n, i)
    keys[n], objs[n] = d, y
    i = n
    while i > 0 and _rf_less(keys, objs, i, (i - 1) // 2):
        p = (i - 1) // 2
        keys[i], keys[p] = keys[p], keys[i]
        objs[i], objs[p] = objs[p], objs[i]
        i = p
    S[LRFU_N] = n + 1


@njit(cache=True)
def _lrfu_victim(keys, objs, S, fobj):
    """Smallest decayed count, ties to the smaller object (CacheState.lrfu_victim)."""
    while True:
        key, y = keys[0], objs[0]
        if fobj[y, LRFU_KEY] != key:
            n = S[LRFU_N] - 1
            S[LRFU_N] = n
            keys[0], objs[0] = keys[n], objs[n]
            _rf_down(keys, objs, n, 0)
            continue
        d = fobj[y, DCOUNT]
        if d == key:
            return y
        keys[0] = d
        fobj[y, LRFU_KEY] = d
        _rf_down(keys, objs, S[LRFU_N], 0)


# ---- cache mechanics -------------------------------------------------------------------
@njit(cache=True, inline="always")
def _insert(x, k, slot, wk, S, iobj, fobj, slots, rings, lfuh, rfk, rfo):
    """Admit ``x`` at time ``k`` into ``slot`` (CacheState._insert)."""
    if iobj[x, GHOST_K] >= 0:
        iobj[x, GHOST_K] = -1
        S[GLIVE] -= 1
        iobj[x, RET] += 1
        S[GHOST_HITS] += 1
    c = iobj[x, COUNT]
    if c:
        iobj[x, GAP] = k - iobj[x, LAST]
    else:
        iobj[x, FIRST] = k
    iobj[x, COUNT] = c + 1
    d = fobj[x, DCOUNT] + wk
    fobj[x, DCOUNT] = d
    iobj[x, FREQ] = 1
    iobj[x, LAST] = k
    iobj[x, INS] = k
    if S[USE_LRFU]:
        _rf_push(rfk, rfo, S, d, x, fobj)
        fobj[x, LRFU_KEY] = d
    if S[USE_LRU]:
        _ring_push(rings, S, R_LRU, x, k, iobj)
    if S[USE_FIFO]:
        _ring_push(rings, S, R_FIFO, x, k, iobj)
    if S[USE_LFU]:
        iobj[x, LFU_F] = 1
        iobj[x, LFU_K] = k
        _lfu_push(lfuh, S, 1, k, x, iobj)
    slots[slot] = x
    iobj[x, POS] = slot


@njit(cache=True, inline="always")
def _hit_or_admit(x, k, wk, cap, S, iobj, fobj, slots, rings, lfuh, rfk, rfo):
    """Serve request ``x`` at ``k`` without an eviction: 1 a hit, 2 admitted, 0 needs one.

    The part every kernel shares (replay, env step, history); the eviction is theirs.
    """
    if iobj[x, FREQ] > 0:
        S[HITS] += 1
        iobj[x, FREQ] += 1
        iobj[x, COUNT] += 1
        fobj[x, DCOUNT] += wk
        iobj[x, GAP] = k - iobj[x, LAST]
        iobj[x, LAST] = k
        if S[USE_LRU]:
            _ring_push(rings, S, R_LRU, x, k, iobj)
        S[LAST_VICTIM] = -1
        return 1
    if S[NSLOTS] < cap:
        _insert(x, k, S[NSLOTS], wk, S, iobj, fobj, slots, rings, lfuh, rfk, rfo)
        S[NSLOTS] += 1
        S[LAST_VICTIM] = -1
        return 2
    return 0


@njit(cache=True, inline="always")
def _evict(v, k, S, iobj, fobj, rings):
    """Drop resident ``v`` into the ghost list (CacheState.evict, before the insert)."""
    iobj[v, FREQ] = 0
    iobj[v, LFU_F] = -1
    fobj[v, LRFU_KEY] = -1.0
    iobj[v, GHOST_K] = k
    _ring_push(rings, S, R_GHOST, v, k, iobj)
    S[GLIVE] += 1
    if S[GLIVE] > S[GSIZE]:
        y = _ring_head(rings, S, R_GHOST, iobj)
        iobj[y, GHOST_K] = -1
        S[GLIVE] -= 1
    S[EVICTIONS] += 1


@njit(cache=True)
def _rebase(S, F, fobj, rfk):
    """CacheState._rebase: scale the stored decayed counts (and LRFU keys) by one factor."""
    f = F[REBASE]
    for y in range(fobj.shape[0]):
        fobj[y, DCOUNT] *= f
        if fobj[y, LRFU_KEY] > 0:
            fobj[y, LRFU_KEY] *= f
    for i in range(S[LRFU_N]):
        rfk[i] *= f
    S[EPOCH_END] += S[PERIOD]


@njit(cache=True, inline="always")
def _propose(src, S, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt):
    """The resident that source ``src`` would evict."""
    if src == SRC_LRU:
        return _ring_head(rings, S, R_LRU, iobj)
    if src == SRC_FIFO:
        return _ring_head(rings, S, R_FIFO, iobj)
    if src == SRC_LFU:
        return _lfu_victim(lfuh, S, iobj)
    if src == SRC_LRFU:
        return _lrfu_victim(rfk, rfo, S, fobj)
    if src == SRC_MRU:
        y = S[PREV]
        if y < 0 or iobj[y, FREQ] == 0:
            best = -1
            for i in range(S[NSLOTS]):
                z = slots[i]
                if best < 0 or iobj[z, LAST] > iobj[best, LAST]:
                    best = z
            y = best
        return y
    return slots[_randbelow(S[NSLOTS], mt, S)]


@njit(cache=True, inline="always")
def _propose_all(cands, kk, src, S, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt):
    """Fill ``cands[:kk]`` with one victim per source (random residents drawn in order)."""
    for j in range(kk):
        if src[j] == SRC_RANDOM:  # the common source, kept out of the call
            cands[j] = slots[_randbelow(S[NSLOTS], mt, S)]
        else:
            cands[j] = _propose(src[j], S, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt)
