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
from rlcache.engine._scorer import SCRATCH, _choose_with
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
                      np.empty(SCRATCH * width, dtype=np.float32),
                      np.empty(SCRATCH * width, dtype=np.float32),
                      np.empty(kk, dtype=np.float32),
                      np.empty(SCRATCH * max(nf, width), dtype=np.int64))


# inlined into ``serve`` and ``serve_packed``: a call passing its 27 arrays cost about
# 0.3 µs per online request, a third of serve_packed's cost when it serves nothing
@njit(cache=True, inline="always")
def serve_with(req, lo, hi, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt, w, src,
               net, bias, sizes, sqt, rec, obs_rec, obs, cands, gpart, h0, h1, q, act):
    """``serve`` with its scratch arrays given (``obs``, ``cands``, the MLP's ``gpart``,
    ``h0``, ``h1``, ``q`` and ``act``, sized as ``_scorer.SCRATCH`` says), so that a
    caller serving one request at a time allocates nothing per call."""
    ext = S[FEATSET] == 1
    nf = N_CAND_EXT if ext else N_CAND_BASIC
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
                      _v1(W, I, 19), _v1(W, I, 20), _v1(W, I, 21), _v1(I, I, 22))
