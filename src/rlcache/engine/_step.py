"""The engine stopped at every decision: the compiled step of the cache env (numba).

``env_run`` serves a window's requests as ``_kernel.serve`` does, but instead of scoring
the candidates itself it stops at each miss with a full cache, with the candidates in
``cands`` and their observation in ``obs``, and applies the caller's action on the next
call. During the warm-up (``warm``) the LRU victim is evicted, as ``CacheState.play``.
``P`` holds the step's own scalars (kept out of ``_layout`` so the shared layout stays
untouched): ``P[PENDING]`` the missing object waiting for an action (-1 none),
``P[LATER]`` how many candidates the last victim's next use preceded (the oracle
reward's count), ``P[FIRST]`` 1 until the episode's first decision.

``env_greedy`` plays the rest of an episode with the scorer's choices (a greedy
evaluation episode in one call) and sums the env's rewards as its ``step`` does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rlcache.engine._history import H_LONGEST, _access, _observe_history
from rlcache.engine._kernel import _globals, _observe, _sq
from rlcache.engine._layout import (
    CAP,
    EPOCH_END,
    HITS,
    LAST,
    LAST_HITS,
    LAST_VICTIM,
    N_GLOB,
    POS,
    PREV,
    R_LRU,
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

PENDING, LATER, FIRST = 0, 1, 2
N_P = 3
#: ``env_run``'s answers: the window (or ``until``) reached, a decision pending, or the
#: chunk of decay weights ``w`` used up (refill it and call again).
DONE, DECISION, REFILL = 0, 1, 2
#: ``env_greedy``'s counters ``G``: decisions taken, hits when the step began, 1 while a
#: step is under way (a refill cut it); its answer LIMIT: ``limit`` decisions taken.
G_STEPS, G_HITS0, G_IN_STEP = 0, 1, 2
N_G = 3
LIMIT = 3
#: ``env_greedy``'s reward modes, as ``CacheEnvConfig.reward``
R_HITS, R_ORACLE, R_BELADY, R_HITS_ORACLE = 0, 1, 2, 3


@njit(cache=True)
def env_run(a, until, warm, req, nxt, S, F, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt, w,
            src, sqt, cands, obs, P, hint, hflt, ext):
    """Apply action ``a`` to the pending decision (if any), then serve up to the next one.

    ``nxt[k]`` is the window time of request k's object's next request (huge if none): a
    resident's next use is ``nxt[LAST]``, which the oracle count compares. With ``hint``
    rows (the ``history`` set, ``_history``'s arrays) every request updates them first
    and a decision fills ``ext`` (the extended part), then ``obs``.
    """
    kk = src.shape[0]
    hist = hint.shape[0] > 0
    fs = np.empty(5, dtype=np.float64)
    h64 = H_LONGEST * S[CAP]
    if P[PENDING] >= 0:
        x = P[PENDING]
        k = S[T]
        v = cands[a]
        nv = nxt[iobj[v, LAST]]
        later = 0
        for j in range(kk):
            if nxt[iobj[cands[j], LAST]] > nv:
                later += 1
        P[LATER] = later
        _evict(v, k, S, iobj, fobj, rings)
        _insert(x, k, iobj[v, POS], w[k - S[WBASE]], S, iobj, fobj, slots, rings, lfuh, rfk,
                rfo)
        S[LAST_VICTIM] = v
        S[PREV] = x
        S[T] = k + 1
        P[PENDING] = -1
    wend = S[WBASE] + w.shape[0]
    cap = S[CAP]
    while S[T] < until:
        k = S[T]
        if k >= wend:
            return REFILL
        if k == S[EPOCH_END]:
            _rebase(S, F, fobj, rfk)
        x = req[k]
        wk = w[k - S[WBASE]]
        if hist:
            _access(x, k, iobj, hint, hflt, h64, fs)
        served = _hit_or_admit(x, k, wk, cap, S, iobj, fobj, slots, rings, lfuh, rfk, rfo)
        if served == 0 and warm:
            v = _ring_head(rings, S, R_LRU, iobj)
            _evict(v, k, S, iobj, fobj, rings)
            _insert(x, k, iobj[v, POS], wk, S, iobj, fobj, slots, rings, lfuh, rfk, rfo)
            S[LAST_VICTIM] = v
        elif served == 0:
            _propose_all(cands, kk, src, S, iobj, fobj, slots, rings, lfuh, rfk, rfo, mt)
            if P[FIRST]:  # the env's builder is reset at its first decision's hit count
                S[LAST_HITS] = S[HITS]
                P[FIRST] = 0
            _globals(x, k, S, F, iobj, sqt)
            if hist:
                _observe_history(cands, k, S, F, iobj, fobj, ext, obs, hint, hflt, sqt, fs)
            else:
                _observe(cands, k, S, F, iobj, fobj, obs, sqt)
            P[PENDING] = x
            return DECISION
        S[PREV] = x
        S[T] = k + 1
    return DONE


@njit(cache=True)
def env_greedy(limit, mode, scale, weight, req, nxt, S, F, iobj, fobj, slots, rings, lfuh,
               rfk, rfo, mt, w, src, sqt, cands, obs, P, hint, hflt, ext, net, bias, sizes,
               G, R):
    """From the pending decision, evict the scorer's choice at every decision until the
    window ends (DONE), ``limit`` decisions are taken (LIMIT) or ``w`` runs out (REFILL:
    refill, call again). ``R[0]`` sums each step's reward as ``CacheEnv.step`` computes
    it (the same float64 operations in the same order), ``G`` counts the steps."""
    kk = src.shape[0]
    nf = (obs.shape[0] - N_GLOB) // kk
    width = net.shape[2]
    gpart = np.empty(width, dtype=np.float32)
    h0 = np.empty(SCRATCH * width, dtype=np.float32)  # the scorer's scratch, as serve's
    h1 = np.empty(SCRATCH * width, dtype=np.float32)
    q = np.empty(kk, dtype=np.float32)
    act = np.empty(SCRATCH * max(nf, width), dtype=np.int64)
    while True:
        a = 0
        if G[G_IN_STEP] == 0:
            if P[PENDING] < 0:
                return DONE
            if G[G_STEPS] >= limit:
                return LIMIT
            a = _choose_with(cands, obs, nf, net, bias, sizes, gpart, h0, h1, q, act)
            G[G_HITS0] = S[HITS]
            G[G_IN_STEP] = 1
        code = env_run(a, req.shape[0], False, req, nxt, S, F, iobj, fobj, slots, rings,
                       lfuh, rfk, rfo, mt, w, src, sqt, cands, obs, P, hint, hflt, ext)
        if code == REFILL:
            return REFILL
        G[G_IN_STEP] = 0
        G[G_STEPS] += 1
        hits = S[HITS] - G[G_HITS0]
        if mode == R_HITS:
            R[0] += float(hits) * scale
        else:
            if mode == R_BELADY:
                shaped = -1.0 if P[LATER] else 1.0
            else:
                shaped = 1.0 - 2.0 * P[LATER] / (kk - 1) if kk > 1 else 0.0
            R[0] += shaped if mode != R_HITS_ORACLE else hits + weight * shaped
        if code == DONE:
            return DONE


@njit(cache=True)
def fill_table(sqt, c):
    """``sqt[v] = _sq(v / c)``: the table ``serve`` fills on its first call, same code."""
    for v in range(sqt.shape[0]):
        sqt[v] = _sq(v / c)
