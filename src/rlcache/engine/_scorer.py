"""The engine's candidate scorer in numba: the shared MLP over each candidate's features
and the globals, and the first-best choice (``agents.networks.CandidateScorer``'s sums in
float32: the bias first, then the inputs in order).

Every path below computes the same float32 sums in the same order, so the decisions do
not depend on the path (tests/engine). What makes the [64, 64] one fast (``_pair64``):
four weight rows per pass over an output vector (``_rows``), branch-free scans for the
ReLU's positive inputs, and two candidates interleaved, since each candidate's sums are
chains of dependent additions whose latency, not the arithmetic, bounds one alone."""

from __future__ import annotations

import numpy as np
from numba import njit


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
def _dense_rows(h, x, x0, n, net, w):
    """``h[:w] += x[x0 + i] * net[0, i, :w]`` for every ``i < n``, four rows a pass.

    A zero input adds ``0 * w``, which leaves a nonzero sum as it is (and can only turn
    a zero's sign, which no comparison sees): the sums of skipping it, without the
    scan. Weights are finite (:class:`rlcache.engine.Scorer` checks)."""
    a = 0
    while a + 4 <= n:
        v0, v1, v2, v3 = x[x0 + a], x[x0 + a + 1], x[x0 + a + 2], x[x0 + a + 3]
        for o in range(w):
            h[o] = (((h[o] + v0 * net[0, a, o]) + v1 * net[0, a + 1, o])
                    + v2 * net[0, a + 2, o]) + v3 * net[0, a + 3, o]
        a += 4
    while a < n:
        v0 = x[x0 + a]
        for o in range(w):
            h[o] += v0 * net[0, a, o]
        a += 1


@njit(cache=True, inline="always")
def _active2(xa, xb, n_in, acta, actb):
    """``act`` lists of the positive ``xa[:n_in]`` and ``xb[:n_in]``, in order, scanned
    together (two independent counters) and without a branch per input (the ReLU's
    skips are data-dependent and mispredict); returns their counts."""
    na = 0
    nb = 0
    for i in range(n_in):
        acta[na] = i
        actb[nb] = i
        na += xa[i] > 0.0
        nb += xb[i] > 0.0
    return na, nb


@njit(cache=True, inline="always")
def _pair64(obs, ja, jb, nf, net, bias, gpart, h0, h1, act, q):
    """``q[ja]``, ``q[jb]``: ``_score2``'s sums for two candidates of a [64, 64] scorer,
    interleaved so that one's additions run while the other's wait (each candidate's
    sums are chains of dependent adds: alone, the core idles on their latency).

    ``h0``, ``h1`` hold two candidates' layers (128 floats each), ``act`` two index
    lists (2 * 64). Per candidate the order is ``_score2``'s: layer 1 over all inputs
    (``_dense_rows``), layer 2 over the positive ones, the output over all 64 with the
    ReLU applied (a zero adds nothing, as above)."""
    ga, gb, ha, hb = h0[:64], h0[64:128], h1[:64], h1[64:128]
    acta, actb = act[:64], act[64:128]
    for o in range(64):
        ga[o] = gpart[o]
        gb[o] = gpart[o]
    _dense_rows(ga, obs, ja * nf, nf, net, 64)
    _dense_rows(gb, obs, jb * nf, nf, net, 64)
    for o in range(64):
        ha[o] = bias[1, o]
        hb[o] = bias[1, o]
    na, nb = _active2(ga, gb, 64, acta, actb)
    _rows(ha, ga, 0, acta, na, net, 1, 64)
    _rows(hb, gb, 0, actb, nb, net, 1, 64)
    sa = bias[2, 0]
    sb = sa
    zero = np.float32(0.0)
    for i in range(64):
        w = net[2, i, 0]
        va, vb = ha[i], hb[i]
        sa += (va if va > zero else zero) * w
        sb += (vb if vb > zero else zero) * w
    q[ja] = sa
    q[jb] = sb


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


SCRATCH = 2
"""``h0`` and ``h1`` hold this many candidates' layers (``SCRATCH * width`` floats) and
``act`` ``SCRATCH * max(nf, width)`` ints: the [64, 64] path scores candidates in pairs."""


@njit(cache=True, inline="always")
def _choose(cands, obs, nf, net, bias, sizes, gpart, h0, h1, q):
    """Index of the best-scored candidate, the first one among equal scores (argmax)."""
    return _choose_with(cands, obs, nf, net, bias, sizes, gpart, h0, h1, q,
                        np.empty(SCRATCH * max(nf, gpart.shape[0]), dtype=np.int64))


# Not inlined: the kernels that score (replay, serve, env step, greedy episodes, history)
# call one compiled copy; inlined, numba typed and lowered the scorer once per kernel.
@njit(cache=True)
def _choose_with(cands, obs, nf, net, bias, sizes, gpart, h0, h1, q, act):
    """Index of the best-scored candidate, the first one among equal scores (argmax).

    A candidate proposed twice gets its first proposal's score (the same object has
    the same observation row, so the same score: the copy only makes it explicit)."""
    kk = cands.shape[0]
    _global_part(obs, kk, nf, net, bias, sizes, gpart)
    two = sizes.shape[0] == 4
    # the shipped configs' [64, 64], in pairs (scratch for two; an odd last one twice)
    if two and sizes[1] == 64 and sizes[2] == 64 and h0.shape[0] >= 128 \
            and h1.shape[0] >= 128 and act.shape[0] >= 128:
        for j in range(0, kk, 2):
            _pair64(obs, j, min(j + 1, kk - 1), nf, net, bias, gpart, h0, h1, act, q)
    else:
        for j in range(kk):
            if two:
                q[j] = _score2(obs, j, nf, net, bias, gpart, h0, h1, sizes[1], sizes[2])
            else:
                q[j] = _score(obs, j, nf, net, bias, sizes, gpart, h0, h1)
    best = 0
    for j in range(kk):
        for p in range(j):
            if cands[p] == cands[j]:
                q[j] = q[p]
                break
        if q[j] > q[best]:
            best = j
    return best


@njit(cache=True)
def choose_rows(obs_rows, n_cands, nf, net, bias, sizes, out):
    """``out[r]``: the first best-scored candidate of observation row ``r`` (the rows of
    a vector env's greedy actions: ``n_cands`` blocks of ``nf`` features, then the
    globals), each by :func:`_choose_with` over distinct candidates."""
    width = 1
    for layer in range(1, sizes.shape[0]):
        width = max(width, sizes[layer])
    cands = np.arange(n_cands)
    gpart = np.empty(width, dtype=np.float32)
    h0 = np.empty(SCRATCH * width, dtype=np.float32)
    h1 = np.empty(SCRATCH * width, dtype=np.float32)
    q = np.empty(n_cands, dtype=np.float32)
    act = np.empty(SCRATCH * max(nf, width), dtype=np.int64)
    for r in range(obs_rows.shape[0]):
        out[r] = _choose_with(cands, obs_rows[r], nf, net, bias, sizes, gpart, h0, h1, q, act)
