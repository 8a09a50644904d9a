"""The compiled ``history`` feature set (:mod:`rlcache.envs.history`), beside ``_kernel``.

``serve_history`` is ``_kernel.serve`` with two per-object arrays more, updated at every
access before the object's last-access time changes: ``hint[obj, :N_DELTAS]`` (its older
inter-access gaps, newest first, 0 = none) and ``hflt[obj, :N_EDC]`` (its decayed counts
at its last access, with the float operations of ``envs.history.access_history``). A
decision builds the extended observation with ``_kernel``'s code, then lays it out at
24 features per candidate and adds the history ones, so the observations are
bit-identical to ``HistoryFeatureBuilder``'s.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rlcache.engine._kernel import _forget, _globals, _observe, _sq, _sqi
from rlcache.engine._layout import (
    CAP,
    CHOICE,
    COUNT,
    DECIDE,
    EPOCH_END,
    FORCE,
    FREQ,
    GAP,
    LAST,
    LAST_VICTIM,
    LRU_CAND,
    N_CAND_EXT,
    N_GLOB,
    NREC,
    POS,
    PREV,
    R_LRU,
    REC_HIT,
    REC_INSERT,
    SCALE,
    SQ_N,
    WBASE,
    T,
)
from rlcache.engine._scorer import SCRATCH, _choose
from rlcache.engine._state import (
    _evict,
    _hit_or_admit,
    _insert,
    _propose_all,
    _rebase,
    _ring_head,
)

N_DELTAS, N_EDC = 6, 5
N_CAND_HIST = N_CAND_EXT + N_DELTAS + N_EDC
H_LONGEST = 64.0  # the longest half-life, in capacities (envs.history.HALF_LIVES[-1])


@njit(cache=True, inline="always")
def _factor(dt, h64, fs):
    """``envs.history._factors``: ``fs`` = the 5 decay factors, shortest half-life first."""
    a64 = 2.0 ** (-dt / h64)
    z = a64 * a64
    a16 = z * z
    z = a16 * a16
    a4 = z * z
    z = a4 * a4
    a1 = z * z
    z = a1 * a1
    fs[0], fs[1], fs[2], fs[3], fs[4] = z * z, a1, a4, a16, a64


@njit(cache=True, inline="always")
def _access(x, k, iobj, hint, hflt, h64, fs):
    """Object ``x`` is requested at time ``k`` (before ``iobj``'s LAST and GAP change)."""
    if iobj[x, COUNT] > 0:
        for m in range(N_DELTAS - 1, 0, -1):
            hint[x, m] = hint[x, m - 1]
        hint[x, 0] = iobj[x, GAP]  # 0 after a single access: no older gap yet
        _factor(k - iobj[x, LAST], h64, fs)
        for h in range(N_EDC):
            hflt[x, h] = hflt[x, h] * fs[h] + 1.0
    else:
        for h in range(N_EDC):
            hflt[x, h] = 1.0


@njit(cache=True, inline="always")
def _observe_history(cands, t, S, F, iobj, fobj, ext, obs, hint, hflt, sqt, fs):
    """The extended observation in ``ext``, laid out in ``obs`` with the history features."""
    _observe(cands, t, S, F, iobj, fobj, ext, sqt)
    kk = cands.shape[0]
    c = F[SCALE]
    h64 = H_LONGEST * S[CAP]
    for j in range(kk):
        y = cands[j]
        src, dst = j * N_CAND_EXT, j * N_CAND_HIST
        for f in range(N_CAND_EXT):
            obs[dst + f] = ext[src + f]
        i = dst + N_CAND_EXT
        for m in range(N_DELTAS):
            g = hint[y, m]
            obs[i + m] = _sqi(g, c, sqt) if g > 0 else 1.0
        i += N_DELTAS
        _factor(t - iobj[y, LAST], h64, fs)
        for h in range(N_EDC):
            obs[i + h] = _sq(hflt[y, h] * fs[h])
    for g in range(N_GLOB):
        obs[kk * N_CAND_HIST + g] = ext[kk * N_CAND_EXT + g]


@njit(cache=True, inline="always")
def _decide_history(x, k, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt, src, net,
                    bias, sizes, sqt, obs_rec, ext, obs, cands, gpart, h0, h1, q, hint,
                    hflt, fs, scored):
    """The victim for missing ``x`` at time ``k`` (``_kernel._decide`` with the history
    observation)."""
    _propose_all(cands, src.shape[0], src, S, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt)
    a = 0
    if scored or S[NREC] < obs_rec.shape[0]:
        _globals(x, k, S, F, iobj, sqt)
        _observe_history(cands, k, S, F, iobj, fobj, ext, obs, hint, hflt, sqt, fs)
        if S[NREC] < obs_rec.shape[0]:
            obs_rec[S[NREC], :] = obs
            S[NREC] += 1
        if scored:
            a = _choose(cands, obs, N_CAND_HIST, net, bias, sizes, gpart, h0, h1, q)
    return cands[a]


@njit(cache=True)
def serve_history(req, lo, hi, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt, w, src,
                  net, bias, sizes, sqt, rec, obs_rec, hint, hflt):
    """``_kernel.serve`` with the ``history`` features (``S[FEATSET]`` must be extended),
    its forget codes and its budget mode's stop included."""
    kk = src.shape[0]
    ext = np.zeros(kk * N_CAND_EXT + N_GLOB, dtype=np.float32)
    obs = np.zeros(kk * N_CAND_HIST + N_GLOB, dtype=np.float32)
    cands = np.empty(kk, dtype=np.int64)
    fs = np.empty(N_EDC, dtype=np.float64)
    width = net.shape[2]
    gpart = np.empty(width, dtype=np.float32)
    h0 = np.empty(SCRATCH * width, dtype=np.float32)
    h1 = np.empty(SCRATCH * width, dtype=np.float32)
    q = np.empty(kk, dtype=np.float32)
    scored = sizes.shape[0] > 1
    h64 = H_LONGEST * S[CAP]
    if S[SQ_N] < sqt.shape[0]:
        for v in range(sqt.shape[0]):
            sqt[v] = _sq(v / F[SCALE])
        S[SQ_N] = sqt.shape[0]
    rows = iobj.shape[0]
    wend = S[WBASE] + w.shape[0]
    cap = S[CAP]
    i = lo
    while i < hi:
        x = req[i]
        if x < 0:  # -1 - y: forget non-resident y, its history too (_kernel.serve's code)
            y = -1 - x
            if y >= rows:
                break
            if iobj[y, FREQ] == 0:
                hint[y, :] = 0
                hflt[y, :] = 0.0
            _forget(y, S, iobj, fobj)
            i += 1
            continue
        k = S[T]
        if x >= rows or k >= wend:
            break
        if k == S[EPOCH_END]:
            _rebase(S, F, fobj, rfk)
        wk = w[k - S[WBASE]]
        code = REC_HIT
        if S[FORCE] < 0:  # budget mode's second call: the first one recorded this access
            _access(x, k, iobj, hint, hflt, h64, fs)
        served = _hit_or_admit(x, k, wk, cap, S, iobj, fobj, slots, rings, lfuh, rfk, rfo)
        if served == 2:
            code = REC_INSERT
        elif served == 0:
            v = S[FORCE]
            if v >= 0:  # budget mode's second call: the caller's victim for this miss
                S[FORCE] = -1
            else:
                v = _decide_history(x, k, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo,
                                    mt, src, net, bias, sizes, sqt, obs_rec, ext, obs, cands,
                                    gpart, h0, h1, q, hint, hflt, fs, scored)
                if S[DECIDE]:  # budget mode: stop before carrying it out (as _kernel)
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
