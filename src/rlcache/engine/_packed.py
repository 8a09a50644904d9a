"""The engine's arrays as views of three flat buffers, for a cheap call per request.

numba unboxes every array argument on every call (about 0.1 µs each): ``serve`` takes
twenty, which costs more than the decision it makes when a server asks for one eviction
at a time. :func:`pack` copies an engine's arrays into one int64, one float64 and one
float32 buffer (a header in the int64 one says where each part lies) and rebinds the
engine's attributes to views of them, so the kernel and Python share the same memory;
``_kernel.serve_packed`` rebuilds the views inside the compiled code and runs
``serve_with``, the very loop ``serve`` runs (same decisions), with scratch arrays that
live in the buffers too (nothing allocated per call). It lives in ``_kernel`` beside that
loop because numba's disk cache checks only the defining file: a ``serve_packed`` here
would keep a stale copy of the loop after ``_kernel`` changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlcache.engine._scorer import SCRATCH

# (attribute, buffer) in header order: 0 the int64 buffer, 1 the float64, 2 the float32.
PARTS = (("_S", 0), ("_slots", 0), ("_rings", 0), ("_lfuh", 0), ("_rfo", 0), ("_mt", 0),
         ("_src", 0), ("_sizes", 0), ("_cands", 0), ("_iobj", 0),
         ("_F", 1), ("_rfk", 1), ("_w", 1), ("_sqt", 1), ("_fobj", 1),
         ("_net", 2), ("_bias", 2), ("_obs", 2), ("_gpart", 2), ("_h0", 2), ("_h1", 2),
         ("_q", 2), ("_act", 0))
_HDR = 4 * len(PARTS)  # per part: offset and up to three dimensions


def pack(eng: Any, obs_dim: int, kk: int, width: int, nf: int) -> tuple[np.ndarray, ...]:
    """Copy ``eng``'s arrays (and new scratch ones, sized as ``_scorer.SCRATCH`` says)
    into three buffers; rebind the attributes to views of them. Returns the buffers
    (int64, float64, float32)."""
    eng._obs = np.zeros(obs_dim, dtype=np.float32)
    eng._cands = np.zeros(kk, dtype=np.int64)
    eng._gpart = np.zeros(width, dtype=np.float32)
    for name in ("_h0", "_h1"):
        setattr(eng, name, np.zeros(SCRATCH * width, dtype=np.float32))
    eng._q = np.zeros(kk, dtype=np.float32)
    eng._act = np.zeros(SCRATCH * max(nf, width), dtype=np.int64)
    arrays = [np.ascontiguousarray(getattr(eng, name)) for name, _ in PARTS]
    sizes = [_HDR, 0, 0]
    offsets = []
    for (_, b), a in zip(PARTS, arrays, strict=True):
        offsets.append(sizes[b])
        sizes[b] += a.size
    bufs = (np.zeros(sizes[0], dtype=np.int64), np.zeros(sizes[1], dtype=np.float64),
            np.zeros(sizes[2], dtype=np.float32))
    hdr = bufs[0]
    for g, ((name, b), a, off) in enumerate(zip(PARTS, arrays, offsets, strict=True)):
        if a.dtype != bufs[b].dtype or a.ndim > 3:
            raise TypeError(f"{name}: {a.dtype} {a.shape} does not fit buffer {b}")
        hdr[4 * g] = off
        hdr[4 * g + 1: 4 * g + 1 + a.ndim] = a.shape
        view = bufs[b][off: off + a.size].reshape(a.shape)
        view[...] = a
        setattr(eng, name, view)
    return bufs
