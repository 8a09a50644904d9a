"""The engine's candidate scorer in numba: the shared MLP over each candidate's features
and the globals, and the first-best choice (``agents.networks.CandidateScorer``'s sums in
float32: the bias first, then the inputs in order)."""

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
