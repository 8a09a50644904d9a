"""The engine stopped at every decision: the compiled step of the cache env (numba).

``env_run`` serves a window's requests as ``_kernel.serve`` does, but instead of scoring
the candidates itself it stops at each miss with a full cache, with the candidates in
``cands`` and their observation in ``obs``, and applies the caller's action on the next
call. During the warm-up (``warm``) the LRU victim is evicted, as ``CacheState.play``.
``P`` holds the step's own scalars (kept out of ``_layout`` so the shared layout stays
untouched): ``P[PENDING]`` the missing object waiting for an action (-1 none),
``P[LATER]`` how many candidates the last victim's next use preceded (the oracle
reward's count), ``P[FIRST]`` 1 until the episode's first decision.
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
    POS,
    PREV,
    R_LRU,
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

PENDING, LATER, FIRST = 0, 1, 2
N_P = 3
#: ``env_run``'s answers: the window (or ``until``) reached, a decision pending, or the
#: chunk of decay weights ``w`` used up (refill it and call again).
DONE, DECISION, REFILL = 0, 1, 2


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
def fill_table(sqt, c):
    """``sqt[v] = _sq(v / c)``: the table ``serve`` fills on its first call, same code."""
    for v in range(sqt.shape[0]):
        sqt[v] = _sq(v / c)
