"""Whole-trace replay of a policy file through the serving engine (``evaluate --policy``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rlcache.policy.file import Policy
from rlcache.serve.engine import make_engine

if TYPE_CHECKING:
    from rlcache.cache.trace import Trace


def policy_table(policy: Policy, env_kwargs: Mapping[str, Any],
                 trace: Trace | None = None) -> dict[str, dict[str, Any]]:
    """``{"agent": row, POLICY: row, ...}`` as for a checkpoint (``evaluation.trace_report``),
    the agent replayed by the engine that ``LearnedCache`` and the libCacheSim plugin use;
    ``trace`` defaults to the one ``env_kwargs`` names."""
    from rlcache.cache.registry import EVAL_POLICIES
    from rlcache.envs.cache_env import CacheEnvConfig
    from rlcache.envs.trace_replay import baseline_rows
    from rlcache.evaluation import add_timing

    config = CacheEnvConfig.from_kwargs(**{k: v for k, v in env_kwargs.items() if k != "name"})
    if trace is None:
        trace = config.load_trace()
    capacity = config.capacity_for(trace)
    n = len(trace)
    t0 = time.perf_counter()
    # The cache starts empty and `progress` (basic features) runs over the whole trace,
    # as in a checkpoint's evaluation.
    hits = make_engine(policy, capacity, horizon=n).replay(trace.object_index)
    seconds = time.perf_counter() - t0
    agent = {"hits": hits, "requests": n, "hit_ratio": hits / n if n else 0.0,
             "miss_ratio": 1.0 - hits / n if n else 0.0}
    out = baseline_rows(agent, trace, capacity, EVAL_POLICIES, config.seed)
    add_timing(out["agent"], seconds)
    return out
