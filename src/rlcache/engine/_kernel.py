"""The compiled core of :mod:`rlcache.engine`: one njit entry point, ``serve``, and helpers.

The state lives in a few flat arrays (index constants in ``_layout``, the cache mechanics
in ``_state``) so that a call has few arguments and Python can grow or refill them
between calls. Every float operation of
the features is written in the order of :class:`rlcache.envs.features.FeatureBuilder`
and :class:`~rlcache.envs.features.ExtendedFeatureBuilder` (float64, stored as float32),
and the victim sources answer as :class:`rlcache.cache.state.CacheState` does, so the
observations are bit-identical to the reference (tests/engine checks it).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rlcache.engine._layout import (
    CAP,
    CHOICE,
    COUNT,
    DCOUNT,
    DECAY,
    DECIDE,
    EPOCH_END,
    FEATSET,
    FIRST,
    FORCE,
    FREQ,
    GAP,
    GGHOST,
    GH,
    GHOST_K,
    GLIVE,
    GMISS,
    GNEW,
    GR,
    GREUSE,
    HALF_LIFE,
    HITS,
    HORIZON,
    INIT_ROW,
    INS,
    LAST,
    LAST_HITS,
    LAST_T,
    LAST_VICTIM,
    LRFU_KEY,
    LRU_CAND,
    N_CAND_BASIC,
    N_CAND_EXT,
    N_GLOB,
    N_I,
    NREC,
    PERIOD,
    POS,
    PREV,
    R_LRU,
    REC_HIT,
    REC_INSERT,
    RET,
    SCALE,
    SQ_N,
    T0,
    WBASE,
    T,
)
from rlcache.engine._state import (
    _evict,
    _hit_or_admit,
    _insert,
    _propose_all,
    _rebase,
    _ring_head,
)


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
            for q in range(kk):  # counts without branches: the comparisons mispredict
                z = cands[q]
                below_r += t - iobj[z, LAST] < rec
                below_c += iobj[z, COUNT] < n
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
def _rows(h, x, x0, act, n, net, layer, w):
    """``h[:w] += x[x0 + i] * net[layer, i, :w]`` for ``i`` in ``act[:n]``, in that order.

    Four rows per pass over ``h``, written as ``((h + a) + b) + ...``: the very sums of
    one row at a time, with a quarter of the loads and stores of ``h``."""
    a = 0
    while a + 4 <= n:
        i0, i1, i2, i3 = act[a], act[a + 1], act[a + 2], act[a + 3]
        v0, v1, v2, v3 = x[x0 + i0], x[x0 + i1], x[x0 + i2], x[x0 + i3]
        for o in range(w):
            h[o] = (((h[o] + v0 * net[layer, i0, o]) + v1 * net[layer, i1, o])
                    + v2 * net[layer, i2, o]) + v3 * net[layer, i3, o]
        a += 4
    while a < n:
        i0 = act[a]
        v0 = x[x0 + i0]
        for o in range(w):
            h[o] += v0 * net[layer, i0, o]
        a += 1


@njit(cache=True, inline="always")
def _active(x, x0, n_in, act, positive):
    """Fill ``act`` with the ``i < n_in`` whose ``x[x0 + i]`` is > 0 (``positive``) or
    != 0, in order, without a branch per input (the MLP's skips are data-dependent and
    mispredict); returns their count."""
    n = 0
    for i in range(n_in):
        v = x[x0 + i]
        act[n] = i
        n += (v > 0.0) if positive else (v != 0.0)
    return n


@njit(cache=True, inline="always")
def _score2g(obs, j, nf, net, bias, gpart, h0, h1, act, w1, w2):
    """``_score2`` by :func:`_rows` over the nonzero inputs: the same sums, bit for bit."""
    for o in range(w1):
        h0[o] = gpart[o]
    base = j * nf
    _rows(h0, obs, base, act, _active(obs, base, nf, act, False), net, 0, w1)
    for o in range(w2):
        h1[o] = bias[1, o]
    _rows(h1, h0, 0, act, _active(h0, 0, w1, act, True), net, 1, w2)
    n = _active(h1, 0, w2, act, True)
    q = bias[2, 0]
    for a in range(n):
        i = act[a]
        q += h1[i] * net[2, i, 0]
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
    return _choose_with(cands, obs, nf, net, bias, sizes, gpart, h0, h1, q,
                        np.empty(max(nf, gpart.shape[0]), dtype=np.int64))


@njit(cache=True, inline="always")
def _choose_with(cands, obs, nf, net, bias, sizes, gpart, h0, h1, q, act):
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
            q[j] = _score2g(obs, j, nf, net, bias, gpart, h0, h1, act, 64, 64)
        elif two:
            q[j] = _score2(obs, j, nf, net, bias, gpart, h0, h1, sizes[1], sizes[2])
        else:
            q[j] = _score(obs, j, nf, net, bias, sizes, gpart, h0, h1)
        if q[j] > q[best]:
            best = j
    return best


@njit(cache=True, inline="always")
def _decide(x, k, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt, src, net, bias, sizes,
            sqt, obs_rec, obs, cands, gpart, h0, h1, q, act, nf, scored):
    """The victim for missing ``x`` at time ``k``: the candidates, their observation (kept
    in ``obs_rec`` while it has room) and the scorer's choice (``sources[0]``'s without)."""
    _propose_all(cands, src.shape[0], src, S, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt)
    a = 0
    if scored or S[NREC] < obs_rec.shape[0]:
        _globals(x, k, S, F, iobj, sqt)
        _observe(cands, k, S, F, iobj, fobj, obs, sqt)
        if S[NREC] < obs_rec.shape[0]:
            obs_rec[S[NREC], :] = obs
            S[NREC] += 1
        if scored:
            a = _choose_with(cands, obs, nf, net, bias, sizes, gpart, h0, h1, q, act)
    return cands[a]


@njit(cache=True, inline="always")
def _forget(y, S, iobj, fobj):
    """Make non-resident ``y`` a never-seen object (a ghost leaves the ghost list): every
    lazy ring and heap entry left for it is stale by its times or keys (see _state)."""
    if iobj[y, FREQ] > 0:
        return
    if iobj[y, GHOST_K] >= 0:
        S[GLIVE] -= 1
    for c in range(N_I):
        iobj[y, c] = INIT_ROW[c]
    fobj[y, DCOUNT] = 0.0
    fobj[y, LRFU_KEY] = -1.0


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
    nf = N_CAND_EXT if S[FEATSET] == 1 else N_CAND_BASIC
    width = net.shape[2]
    return serve_with(req, lo, hi, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt, w,
                      src, net, bias, sizes, sqt, rec, obs_rec,
                      np.zeros(kk * nf + N_GLOB, dtype=np.float32),
                      np.empty(kk, dtype=np.int64), np.empty(width, dtype=np.float32),
                      np.empty(width, dtype=np.float32), np.empty(width, dtype=np.float32),
                      np.empty(kk, dtype=np.float32))


@njit(cache=True)
def serve_with(req, lo, hi, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt, w, src,
               net, bias, sizes, sqt, rec, obs_rec, obs, cands, gpart, h0, h1, q):
    """``serve`` with its scratch arrays given (``obs``, ``cands``, the MLP's ``gpart``,
    ``h0``, ``h1`` and ``q``), so that a caller serving one request at a time allocates
    nothing per call."""
    ext = S[FEATSET] == 1
    nf = N_CAND_EXT if ext else N_CAND_BASIC
    scored = sizes.shape[0] > 1
    act = np.empty(max(nf, gpart.shape[0]), dtype=np.int64)
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
        if x < 0:  # -1 - y: forget non-resident y (no request; rlcache.serve recycles y)
            if -1 - x >= rows:
                break
            _forget(-1 - x, S, iobj, fobj)
            i += 1
            continue
        k = S[T]
        if x >= rows or k >= wend:
            break
        if k == S[EPOCH_END]:
            _rebase(S, F, fobj, rfk)
        wk = w[k - S[WBASE]]
        code = REC_HIT
        served = _hit_or_admit(x, k, wk, cap, S, iobj, fobj, slots, rings, lfuh, rfk, rfo)
        if served == 2:
            code = REC_INSERT
        elif served == 0:
            v = S[FORCE]
            if v >= 0:  # budget mode's second call: the caller's victim for this miss
                S[FORCE] = -1
            else:
                v = _decide(x, k, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt, src,
                            net, bias, sizes, sqt, obs_rec, obs, cands, gpart, h0, h1, q,
                            act, nf, scored)
                if S[DECIDE]:  # budget mode: stop before carrying it out (see core)
                    S[CHOICE] = v
                    S[LRU_CAND] = _ring_head(rings, S, R_LRU, iobj)
                    break
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


# ---- the online entry: the arrays as views of _packed.pack's three buffers -----------
@njit(cache=True, inline="always")
def _v1(buf, hdr, g):
    o = hdr[4 * g]
    return buf[o: o + hdr[4 * g + 1]]


@njit(cache=True, inline="always")
def _v2(buf, hdr, g):
    o, a, b = hdr[4 * g], hdr[4 * g + 1], hdr[4 * g + 2]
    return buf[o: o + a * b].reshape((a, b))


@njit(cache=True, inline="always")
def _v3(buf, hdr, g):
    o, a, b, c = hdr[4 * g], hdr[4 * g + 1], hdr[4 * g + 2], hdr[4 * g + 3]
    return buf[o: o + a * b * c].reshape((a, b, c))


@njit(cache=True)
def serve_packed(req, lo, hi, I, D, W):  # noqa: E741 - the int64 buffer
    """``serve(req, lo, hi, ...)`` over the buffers of ``_packed.pack`` (the part order
    of ``_packed.PARTS``; nothing recorded)."""
    obs = _v1(W, I, 17)
    return serve_with(req, lo, hi, _v1(I, I, 0), _v1(D, I, 10), _v2(I, I, 9), _v2(D, I, 14),
                      _v1(I, I, 1), _v3(I, I, 2), _v2(I, I, 3), _v1(D, I, 11), _v1(I, I, 4),
                      _v1(I, I, 5), _v1(D, I, 12), _v1(I, I, 6), _v3(W, I, 15),
                      _v2(W, I, 16), _v1(I, I, 7), _v1(D, I, 13), I[0:0],
                      W[0:0].reshape((0, obs.shape[0])), obs, _v1(I, I, 8), _v1(W, I, 18),
                      _v1(W, I, 19), _v1(W, I, 20), _v1(W, I, 21))
