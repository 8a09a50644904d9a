"""Seeded synthetic workloads, vectorized with numpy; ``generate(name, ...)`` builds a Trace.

Object ids are in ``[0, n_objects)``; a random permutation maps popularity ranks to ids so
that id order carries no information.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Sequence

import numpy as np

from rlcache.cache.trace import Trace
from rlcache.errors import UserError


def _check(n_requests: int, n_objects: int) -> None:
    if int(n_requests) < 1:
        raise UserError(f"number of requests must be at least 1, got {n_requests}")
    if int(n_objects) < 1:
        raise UserError(f"number of objects must be at least 1, got {n_objects}")


def _zipf_ranks(rng: np.random.Generator, n: int, n_objects: int, alpha: float) -> np.ndarray:
    """``n`` Zipf(alpha) ranks in [0, n_objects), by inverse CDF (rank 0 most popular)."""
    if alpha < 0:
        raise UserError(f"Zipf alpha must be non-negative, got {alpha}")
    weights = np.arange(1, n_objects + 1, dtype=np.float64) ** -float(alpha)
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    ranks = np.searchsorted(cdf, rng.random(n), side="right")
    return np.minimum(ranks, n_objects - 1).astype(np.int64)


def zipf(n_requests: int, n_objects: int, alpha: float = 0.9, seed: int = 0) -> np.ndarray:
    """Independent requests with Zipf(alpha) popularity over ``n_objects`` objects."""
    _check(n_requests, n_objects)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_objects).astype(np.int64)
    return perm[_zipf_ranks(rng, n_requests, n_objects, alpha)]


def zipf_scan(
    n_requests: int,
    n_objects: int,
    alpha: float = 0.9,
    seed: int = 0,
    scan_frac: float = 0.2,
    scan_len: int | None = None,
) -> np.ndarray:
    """Zipf requests with sequential scans over rarely requested (tail) objects mixed in.

    About ``scan_frac`` of the requests belong to scans of ``scan_len`` consecutive tail
    objects (default: a twentieth of the objects), each starting at a random tail rank.
    """
    _check(n_requests, n_objects)
    if not 0.0 <= scan_frac < 1.0:
        raise UserError(f"scan_frac must be in [0, 1), got {scan_frac}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_objects).astype(np.int64)
    tail = n_objects // 2
    length = max(1, min(scan_len or n_objects // 20, n_objects - tail))
    n_scans = int(n_requests * scan_frac) // length
    n_zipf = n_requests - n_scans * length
    ranks = _zipf_ranks(rng, n_zipf, n_objects, alpha)
    if n_scans == 0:
        return perm[ranks]
    starts = rng.integers(tail, n_objects - length + 1, size=n_scans)
    scans = starts[:, None] + np.arange(length)[None, :]
    where = np.sort(rng.integers(0, n_zipf + 1, size=n_scans))
    pieces = np.split(ranks, where)
    out = [pieces[0]]
    for k in range(n_scans):
        out.append(scans[k])
        out.append(pieces[k + 1])
    return perm[np.concatenate(out)]


def loop(n_requests: int, loop_len: int, seed: int = 0) -> np.ndarray:
    """The same ``loop_len`` distinct objects requested in one fixed cyclic order."""
    _check(n_requests, loop_len)
    rng = np.random.default_rng(seed)
    order = rng.permutation(loop_len).astype(np.int64)
    offset = int(rng.integers(loop_len))
    return order[(np.arange(n_requests, dtype=np.int64) + offset) % loop_len]


def shift(
    n_requests: int, n_objects: int, alpha: float = 0.9, seed: int = 0, n_phases: int = 4
) -> np.ndarray:
    """Zipf(alpha) whose rank-to-object mapping is redrawn in each of ``n_phases`` phases."""
    _check(n_requests, n_objects)
    if int(n_phases) < 1:
        raise UserError(f"n_phases must be at least 1, got {n_phases}")
    rng = np.random.default_rng(seed)
    ranks = _zipf_ranks(rng, n_requests, n_objects, alpha)
    bounds = np.linspace(0, n_requests, int(n_phases) + 1).astype(np.int64)
    out = np.empty(n_requests, dtype=np.int64)
    for a, b in itertools.pairwise(bounds):
        out[a:b] = rng.permutation(n_objects)[ranks[a:b]]
    return out


def churn(n_requests: int, n_objects: int, seed: int = 0) -> np.ndarray:
    """Requests drawn uniformly over ``n_objects`` objects."""
    _check(n_requests, n_objects)
    return np.random.default_rng(seed).integers(0, n_objects, size=n_requests, dtype=np.int64)


def phased(
    n_requests: int,
    n_objects: int,
    alpha: float = 0.9,
    seed: int = 0,
    phases: Sequence[str] = ("zipf", "loop", "zipf"),
    loop_len: int | None = None,
) -> np.ndarray:
    """Equal segments switching between workloads (``zipf``, ``loop``, ``churn``, ``scan``).

    All segments share the ``n_objects`` id space; a loop segment cycles over ``loop_len``
    of them (default a tenth), chosen at random.
    """
    _check(n_requests, n_objects)
    if not phases:
        raise UserError("phased workload needs at least one phase")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_objects).astype(np.int64)
    llen = max(1, min(loop_len or n_objects // 10, n_objects))
    bounds = np.linspace(0, n_requests, len(phases) + 1).astype(np.int64)
    out = np.empty(n_requests, dtype=np.int64)
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        n = int(b - a)
        if n == 0:
            continue
        sub_seed = int(rng.integers(2**31))
        kind = phases[k]
        if kind == "zipf":
            out[a:b] = perm[_zipf_ranks(np.random.default_rng(sub_seed), n, n_objects, alpha)]
        elif kind == "scan":
            out[a:b] = perm[zipf_scan(n, n_objects, alpha, sub_seed)]
        elif kind == "loop":
            members = rng.choice(n_objects, size=llen, replace=False)
            out[a:b] = members[loop(n, llen, sub_seed)]
        elif kind == "churn":
            out[a:b] = churn(n, n_objects, sub_seed)
        else:
            raise UserError(f"unknown phase {kind!r}; expected zipf, scan, loop or churn")
    return out


def _loop_workload(n_requests: int, n_objects: int, seed: int = 0) -> np.ndarray:
    """``loop`` with ``n_objects`` as the loop length."""
    return loop(n_requests, n_objects, seed)


#: Workload name -> generator ``f(n_requests, n_objects, ..., seed=...) -> ids``.
WORKLOADS: dict[str, Callable[..., np.ndarray]] = {
    "zipf": zipf,
    "zipf_scan": zipf_scan,
    "loop": _loop_workload,
    "shift": shift,
    "churn": churn,
    "phased": phased,
}


def generate(
    name: str,
    n_requests: int = 100_000,
    n_objects: int = 10_000,
    seed: int = 0,
    **kw: object,
) -> Trace:
    """Build a Trace from workload ``name`` (see ``WORKLOADS``); for loop, objects = length."""
    fn = WORKLOADS.get(name)
    if fn is None:
        raise UserError(f"unknown workload {name!r}; expected one of {', '.join(WORKLOADS)}")
    params = inspect.signature(fn).parameters
    unknown = sorted(k for k in kw if k not in params)
    if unknown:
        accepted = [p for p in params if p not in ("n_requests", "n_objects", "seed")]
        raise UserError(
            f"workload {name!r} takes no option {', '.join(unknown)}"
            f" (accepted: {', '.join(accepted) or 'none'})"
        )
    ids = fn(int(n_requests), int(n_objects), seed=int(seed), **kw)
    return Trace(ids, name=name)
