"""The pure-Python whole-trace replay of a greedy policy (the reference the compiled
engine and the serving engines are tested against), the baselines' rows beside it, and the
held-out validation cut of a trace."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from rlcache.cache.registry import EVAL_POLICIES
from rlcache.cache.report import add_gap_shares, baseline_table
from rlcache.cache.state import CacheState
from rlcache.cache.trace import Trace
from rlcache.envs.cache_config import CacheEnvConfig
from rlcache.envs.features import FeatureBuilder, make_feature_builder
from rlcache.errors import UserError


def cut_validation(trace: Trace, validation: float,
                    at_most: int | None = None) -> tuple[Trace, Trace]:
    """The trace before its held-out end and that end (``validation`` share or requests,
    at most ``at_most``)."""
    n = len(trace)
    held = round(validation * n) if validation < 1 else int(validation)
    held = held if at_most is None else min(held, at_most)
    if not 0 < held < n:
        raise UserError(f"env.validation: {validation} leaves no request for training or "
                        f"for validation in a trace of {n}")
    return trace.slice(0, n - held), trace.slice(n - held, None)


def evaluate_on_trace(
    select: Callable[[np.ndarray], int],
    config: CacheEnvConfig | Mapping[str, Any],
    trace: Trace | None = None,
    policies: Iterable[str] = EVAL_POLICIES,
) -> dict[str, dict[str, Any]]:
    """Replay a whole trace (cache empty at start) with ``select(obs) -> action`` greedy.

    Returns ``{"agent": row, POLICY: row, ...}``, rows ``{hits, requests, hit_ratio,
    miss_ratio, gap_share}``, the baselines on exactly the same requests. ``trace``
    defaults to the config's (its ``split`` applied). This is the pure-Python reference;
    :func:`rlcache.evaluation.trace_report` runs a candidate scorer compiled.
    """
    if isinstance(config, Mapping):
        config = CacheEnvConfig.from_kwargs(**{k: v for k, v in config.items() if k != "name"})
    trace = config.load_trace() if trace is None else trace
    capacity = config.capacity_for(trace)
    hits = agent_replay(select, config, trace, capacity)
    n = len(trace)
    agent = {"hits": hits, "requests": n, "hit_ratio": hits / n if n else 0.0,
             "miss_ratio": 1.0 - hits / n if n else 0.0}
    return baseline_rows(agent, trace, capacity, policies, config.seed)


def agent_replay(select: Callable[[np.ndarray], int], config: CacheEnvConfig, trace: Trace,
                 capacity: int) -> int:
    """Hits of ``select`` replaying all of ``trace`` from an empty cache (the reference)."""
    st = CacheState(trace, capacity, seed=config.seed,
                    ghost_size=config.ghost_size_for(capacity),
                    half_life=config.dfreq_half_life * capacity)
    fns = [st._source(s) for s in config.candidates]
    feats: FeatureBuilder = make_feature_builder(config.features, len(fns), capacity,
                                                 config.decay, config.candidates)
    feats.reset(0, len(trace))
    while st.advance():
        cands = [fn() for fn in fns]
        st.evict(cands[int(select(feats.observe(st, cands).copy()))])
    return st.hits


def baseline_rows(agent: dict[str, Any], trace: Trace, capacity: int, policies: Iterable[str],
                  seed: int) -> dict[str, dict[str, Any]]:
    """``{"agent": agent, POLICY: row, ...}`` with every row's share of the LRU->MIN gap."""
    table = baseline_table(trace, capacity, policies, seed=seed)
    lru = table["LRU"]["hit_ratio"] if "LRU" in table else None
    bel = table["BELADY"]["hit_ratio"] if "BELADY" in table else None
    out: dict[str, dict[str, Any]] = {"agent": agent, **table}
    if lru is None or bel is None:
        ref = baseline_table(trace, capacity, ("LRU", "BELADY"), seed=seed)
        lru, bel = ref["LRU"]["hit_ratio"], ref["BELADY"]["hit_ratio"]
    add_gap_shares(out, lru, bel)
    return out
