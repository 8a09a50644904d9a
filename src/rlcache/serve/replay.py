"""Whole-trace replay of a policy file through the serving engine (``evaluate --policy``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rlcache.cache.registry import EVAL_POLICIES
from rlcache.cache.report import add_gap_shares, baseline_table
from rlcache.evaluation import add_timing
from rlcache.policy.file import Policy
from rlcache.serve.engine import make_engine


def policy_table(policy: Policy, env_kwargs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"agent": row, POLICY: row, ...}`` as ``evaluate_on_trace`` returns, the agent
    replayed by the engine that ``LearnedCache`` and the libCacheSim plugin use."""
    from rlcache.envs.cache_env import CacheEnvConfig

    config = CacheEnvConfig.from_kwargs(**{k: v for k, v in env_kwargs.items() if k != "name"})
    trace = config.load_trace()
    capacity = config.capacity_for(trace)
    n = len(trace)
    # The cache starts empty and `progress` (basic features) runs over the whole trace,
    # as in evaluate_on_trace.
    t0 = time.perf_counter()
    hits = make_engine(policy, capacity, horizon=n).replay(trace.object_index)
    seconds = time.perf_counter() - t0
    agent = {"hits": hits, "requests": n, "hit_ratio": hits / n, "miss_ratio": 1.0 - hits / n}
    add_timing(agent, seconds)
    table = baseline_table(trace, capacity, EVAL_POLICIES, seed=config.seed)
    out: dict[str, dict[str, Any]] = {"agent": agent, **table}
    add_gap_shares(out, table["LRU"]["hit_ratio"], table["BELADY"]["hit_ratio"])
    return out
