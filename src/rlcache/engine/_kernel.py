"""The compiled core of :mod:`rlcache.engine`: one njit entry point, ``serve``, and helpers.

The state lives in a few flat arrays (see the index constants below) so that a call has
few arguments and Python can grow or refill them between calls. Every float operation of
the features is written in the order of :class:`rlcache.envs.features.FeatureBuilder`
and :class:`~rlcache.envs.features.ExtendedFeatureBuilder` (float64, stored as float32),
and the victim sources answer as :class:`rlcache.cache.state.CacheState` does, so the
observations are bit-identical to the reference (tests/engine checks it).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# ---- int64 scalars ``S`` ---------------------------------------------------------------
T, HITS, EVICTIONS, GHOST_HITS, NSLOTS, CAP = 0, 1, 2, 3, 4, 5
LRU_H, LRU_T, FIFO_H, FIFO_T, GH_H, GH_T, GLIVE, GSIZE = 6, 7, 8, 9, 10, 11, 12, 13
LFU_N, LRFU_N, EPOCH_END, PERIOD, MTI, WBASE = 14, 15, 16, 17, 18, 19
LAST_HITS, LAST_T, PREV, LAST_VICTIM, NREC, FEATSET, T0, HORIZON = 20, 21, 22, 23, 24, 25, 26, 27
USE_LRU, USE_FIFO, USE_LFU, USE_LRFU, SQ_N = 28, 29, 30, 31, 32
N_S = 33
# ---- float64 scalars ``F`` -------------------------------------------------------------
HALF_LIFE, REBASE, SCALE, DECAY, GH, GR, GNEW, GGHOST, GMISS, GREUSE = range(10)
N_F = 10
# ---- per-object int64 columns ``iobj[obj, col]`` ---------------------------------------
FREQ, COUNT, FIRST, LAST, INS, GAP, RET, POS, LFU_F, LFU_K, GHOST_K = range(11)
N_I = 11
INIT_ROW = (0, 0, -1, -1, -1, 0, 0, 0, -1, -1, -1)
# ---- per-object float64 columns ``fobj[obj, col]`` -------------------------------------
DCOUNT, LRFU_KEY = 0, 1
# ---- rings ``rings[which, slot, (obj, time)]`` -----------------------------------------
R_LRU, R_FIFO, R_GHOST = 0, 1, 2
# ---- source codes (``SOURCES`` order of rlcache.cache.state) ---------------------------
SRC_LRU, SRC_LFU, SRC_FIFO, SRC_MRU, SRC_LRFU, SRC_RANDOM = range(6)
# ---- record codes (``rec``) ------------------------------------------------------------
REC_HIT, REC_INSERT = -1, -2

N_CAND_BASIC, N_CAND_EXT, N_GLOB = 8, 13, 4


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


# ---- features (FeatureBuilder.observe / ExtendedFeatureBuilder.observe) ----------------
@njit(cache=True, inline="always")
def _sq(v):
    u = math.log1p(v)
    return u / (u + 1.0)


@njit(cache=True, inline="always")
def _sqi(v, c, sqt):
    """``_sq(v / c)`` for an int ``v >= 0``, from the table when it covers ``v``."""
    return sqt[v] if v < sqt.shape[0] else _sq(v / c)


@njit(cache=True, inline="always")
def _globals(x, t, S, F, iobj, sqt):
    d = F[DECAY]
    c = F[SCALE]
    F[GH] = d * F[GH] + (S[HITS] - S[LAST_HITS])
    F[GR] = d * F[GR] + (t - S[LAST_T] + 1)
    F[GMISS] = d * F[GMISS] + 1.0
    seen = iobj[x, COUNT] > 0
    F[GNEW] = d * F[GNEW] + (0.0 if seen else 1.0)
    F[GGHOST] = d * F[GGHOST] + (1.0 if iobj[x, GHOST_K] >= 0 else 0.0)
    if S[FEATSET] == 1:
        F[GREUSE] = d * F[GREUSE] + (_sqi(t - iobj[x, LAST], c, sqt) if seen else 1.0)
    S[LAST_HITS] = S[HITS]
    S[LAST_T] = t + 1


@njit(cache=True, inline="always")
def _observe(cands, t, S, F, iobj, fobj, obs, sqt):
    """Fill ``obs`` (float32) for the candidates at decision time ``t``."""
    c = F[SCALE]
    kk = cands.shape[0]
    ext = S[FEATSET] == 1
    nf = N_CAND_EXT if ext else N_CAND_BASIC
    dnow = 2.0 ** ((S[EPOCH_END] - S[PERIOD] - t) / F[HALF_LIFE])
    norm = 1.0 / (kk - 1) if kk > 1 else 0.0
    for j in range(kk):
        y = cands[j]
        i = j * nf
        n = iobj[y, COUNT]
        last, first, ins = iobj[y, LAST], iobj[y, FIRST], iobj[y, INS]
        rec = t - last
        obs[i] = _sqi(rec, c, sqt)
        f = iobj[y, FREQ] - 1
        obs[i + 1] = f / (f + 4.0)
        obs[i + 2] = (n - 1) / (n + 7.0)
        obs[i + 3] = _sqi(t - ins, c, sqt)
        if n > 1:
            g = iobj[y, GAP]
            obs[i + 4] = _sqi(g, c, sqt)
            if ext:
                mg = (last - first) / (n - 1)
                obs[i + 5] = _sq(mg / c)
                # (g - rec) / c >= 0 exactly when g >= rec, and -((g - rec) / c) is
                # (rec - g) / c: the table answers both signs of the reference's branch
                if g >= rec:
                    obs[i + 8] = 0.5 + 0.5 * _sqi(g - rec, c, sqt)
                else:
                    obs[i + 8] = 0.5 - 0.5 * _sqi(rec - g, c, sqt)
                obs[i + 9] = _sq(rec / mg) if mg > 0 else 1.0
            else:
                obs[i + 5] = _sq((last - first) / ((n - 1) * c))
        else:
            obs[i + 4] = 1.0
            obs[i + 5] = 1.0
            if ext:
                obs[i + 8] = 0.5
                obs[i + 9] = 1.0
        obs[i + 6] = _sq((t - first + 1) / (n * c))
        b = iobj[y, RET]
        obs[i + 7] = b / (b + 1.0)
        if ext:
            below_r = 0
            below_c = 0
            for q in range(kk):
                z = cands[q]
                if t - iobj[z, LAST] < rec:
                    below_r += 1
                if iobj[z, COUNT] < n:
                    below_c += 1
            obs[i + 10] = below_r * norm
            obs[i + 11] = below_c * norm
            obs[i + 12] = _sq(fobj[y, DCOUNT] * dnow)
    i = kk * nf
    m = F[GMISS]
    obs[i] = F[GH] / F[GR]
    obs[i + 1] = F[GNEW] / m
    obs[i + 2] = F[GGHOST] / m
    if ext:
        obs[i + 3] = F[GREUSE] / m
    else:
        p = (t - S[T0]) / max(1, S[HORIZON])
        obs[i + 3] = p if p < 1.0 else 1.0


# ---- the candidate scorer: shared MLP over [candidate features, globals] ---------------
# ``net[l, :n_in, :n_out]`` is layer l's W^T (zero-padded), ``bias[l, :n_out]`` its bias,
# ``sizes`` = (inputs, hidden..., 1): sums run over inputs in order after the bias.
@njit(cache=True, inline="always")
def _score(obs, j, nf, net, bias, sizes, gpart, h0, h1):
    """Q-value of candidate ``j`` (``gpart``: the bias plus the globals' share)."""
    width = sizes[1]
    for o in range(width):
        h0[o] = gpart[o]
    base = j * nf
    for i in range(nf):
        xi = obs[base + i]
        if xi != 0.0:
            for o in range(width):
                h0[o] += xi * net[0, i, o]
    n_layers = sizes.shape[0] - 1
    for layer in range(1, n_layers):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        for o in range(n_out):
            h1[o] = bias[layer, o]
        for i in range(n_in):
            xi = h0[i]
            if xi > 0.0:  # ReLU: a negative input is a zero, and adding 0 * w changes nothing
                for o in range(n_out):
                    h1[o] += xi * net[layer, i, o]
        for o in range(n_out):
            h0[o] = h1[o]
    return h0[0]


@njit(cache=True, inline="always")
def _score2(obs, j, nf, net, bias, gpart, h0, h1, w1, w2):
    """``_score`` for two hidden layers of widths ``w1``, ``w2`` (constants where called so,
    which lets the compiler unroll): the same operations in the same order."""
    for o in range(w1):
        h0[o] = gpart[o]
    base = j * nf
    for i in range(nf):
        xi = obs[base + i]
        if xi != 0.0:
            for o in range(w1):
                h0[o] += xi * net[0, i, o]
    for o in range(w2):
        h1[o] = bias[1, o]
    for i in range(w1):
        xi = h0[i]
        if xi > 0.0:
            for o in range(w2):
                h1[o] += xi * net[1, i, o]
    q = bias[2, 0]
    for i in range(w2):
        xi = h1[i]
        if xi > 0.0:
            q += xi * net[2, i, 0]
    return q


@njit(cache=True, inline="always")
def _global_part(obs, kk, nf, net, bias, sizes, gpart):
    """Bias plus the globals' share of the first layer (the same for every candidate)."""
    width = sizes[1]
    for o in range(width):
        gpart[o] = bias[0, o]
    g0 = kk * nf
    for g in range(sizes[0] - nf):
        xg = obs[g0 + g]
        if xg != 0.0:
            for o in range(width):
                gpart[o] += xg * net[0, nf + g, o]


@njit(cache=True, inline="always")
def _choose(cands, obs, nf, net, bias, sizes, gpart, h0, h1, q):
    """Index of the best-scored candidate, the first one among equal scores (argmax)."""
    kk = cands.shape[0]
    _global_part(obs, kk, nf, net, bias, sizes, gpart)
    two = sizes.shape[0] == 4
    fixed64 = two and sizes[1] == 64 and sizes[2] == 64  # the shipped configs' [64, 64]
    best = 0
    for j in range(kk):
        dup = -1
        for p in range(j):
            if cands[p] == cands[j]:
                dup = p
                break
        if dup >= 0:
            q[j] = q[dup]
        elif fixed64:
            q[j] = _score2(obs, j, nf, net, bias, gpart, h0, h1, 64, 64)
        elif two:
            q[j] = _score2(obs, j, nf, net, bias, gpart, h0, h1, sizes[1], sizes[2])
        else:
            q[j] = _score(obs, j, nf, net, bias, sizes, gpart, h0, h1)
        if q[j] > q[best]:
            best = j
    return best


# ---- the entry point -------------------------------------------------------------------
@njit(cache=True)
def serve(req, lo, hi, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt, w, src,
          net, bias, sizes, sqt, rec, obs_rec):
    """Serve ``req[lo:hi]``; returns the index reached (short when Python must act).

    It stops before a request whose object has no row in ``iobj`` (grow it) or whose time
    is past the ``w`` chunk (refill it). ``rec`` (if non-empty, one per request) gets
    ``REC_HIT``, ``REC_INSERT`` or the victim; ``obs_rec`` the first observations.
    """
    kk = src.shape[0]
    ext = S[FEATSET] == 1
    nf = N_CAND_EXT if ext else N_CAND_BASIC
    obs = np.zeros(kk * nf + N_GLOB, dtype=np.float32)
    cands = np.empty(kk, dtype=np.int64)
    width = net.shape[2]
    gpart = np.empty(width, dtype=np.float32)
    h0 = np.empty(width, dtype=np.float32)
    h1 = np.empty(width, dtype=np.float32)
    q = np.empty(kk, dtype=np.float32)
    scored = sizes.shape[0] > 1
    if S[SQ_N] < sqt.shape[0]:  # first call: _sq(v / capacity) for small ints v
        for v in range(sqt.shape[0]):
            sqt[v] = _sq(v / F[SCALE])
        S[SQ_N] = sqt.shape[0]
    rows = iobj.shape[0]
    wend = S[WBASE] + w.shape[0]
    cap = S[CAP]
    i = lo
    while i < hi:
        x = req[i]
        k = S[T]
        if x < 0 or x >= rows or k >= wend:
            break
        if k == S[EPOCH_END]:
            _rebase(S, F, fobj, rfk)
        wk = w[k - S[WBASE]]
        code = REC_HIT
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
        elif S[NSLOTS] < cap:
            _insert(x, k, S[NSLOTS], wk, S, iobj, fobj, slots, rings, lfuh, rfk, rfo)
            S[NSLOTS] += 1
            S[LAST_VICTIM] = -1
            code = REC_INSERT
        else:
            for j in range(kk):
                if src[j] == SRC_RANDOM:  # the common source, kept out of the call
                    cands[j] = slots[_randbelow(S[NSLOTS], mt, S)]
                else:
                    cands[j] = _propose(src[j], S, iobj, fobj, slots, rings, lfuh, rfk, rfo,
                                        mt)
            a = 0
            if scored or S[NREC] < obs_rec.shape[0]:
                _globals(x, k, S, F, iobj, sqt)
                _observe(cands, k, S, F, iobj, fobj, obs, sqt)
                if S[NREC] < obs_rec.shape[0]:
                    obs_rec[S[NREC], :] = obs
                    S[NREC] += 1
                if scored:
                    a = _choose(cands, obs, nf, net, bias, sizes, gpart, h0, h1, q)
            v = cands[a]
            _evict(v, k, S, iobj, fobj, rings)
            _insert(x, k, iobj[v, POS], wk, S, iobj, fobj, slots, rings, lfuh, rfk, rfo)
            S[LAST_VICTIM] = v
            code = v
        if rec.shape[0] > 0:
            rec[i] = code
        S[PREV] = x
        S[T] = k + 1
        i += 1
    return i
