"""A learned policy inside libCacheSim's replay engine, through its plugin-cache hooks.

``learned_plugin(capacity, policy)`` is a ``libcachesim.PluginCache`` whose evictions
the policy chooses (the same :class:`~rlcache.serve.engine.PolicyEngine` as
``LearnedCache`` and ``rlcache evaluate --policy``), so it can be replayed and compared
beside libCacheSim's own S3FIFO, SIEVE, LeCaR... in one engine::

    import libcachesim as lcs
    from rlcache.serve import learned_plugin, unit_size_reader

    reader = unit_size_reader("trace.oracleGeneral.bin.zst")
    for cache in (learned_plugin(1000), lcs.S3FIFO(1000), lcs.LRU(1000)):
        miss_ratio, _ = cache.process_trace(reader)

Capacities count objects: read traces with ``unit_size_reader`` (object sizes ignored).
"""

from __future__ import annotations

import os
from typing import Any

from rlcache.policy.file import Policy
from rlcache.serve.cache import as_policy
from rlcache.serve.engine import CompiledPolicyEngine, DenseIds, PolicyEngine, make_engine


class PluginState(DenseIds):
    """What the hooks share: the engine, libCacheSim ids <-> dense ints, the admission."""

    def __init__(self, policy: Policy, capacity: int, budget: float | None,
                 horizon: int | None, engine: str = "auto") -> None:
        super().__init__()
        self.engine: PolicyEngine | CompiledPolicyEngine = make_engine(
            policy, capacity, budget, horizon, engine)
        self.admitted = -1


def learned_plugin(capacity: int, policy: Policy | str | Any = "pretrained", *,
                   budget_us: float | None = None, horizon: int | None = None,
                   engine: str = "auto", name: str = "rlcache") -> Any:
    """A ``libcachesim.PluginCache`` of ``capacity`` objects evicting by ``policy``.

    Its ``rlcache`` attribute is the :class:`PluginState` (``.engine`` has the counters).
    """
    import libcachesim as lcs

    pol = as_policy(policy)
    budget = None if budget_us is None else budget_us * 1e-6
    holder: list[PluginState] = []

    def init_hook(params: Any) -> PluginState:
        holder.append(PluginState(pol, int(params.cache_size), budget, horizon, engine))
        return holder[-1]

    def hit_hook(s: PluginState, req: Any) -> None:
        if not s.engine.access(s.index(req.obj_id)):
            raise RuntimeError(f"rlcache plugin: libCacheSim hit {req.obj_id}, which the "
                               "policy's engine does not hold (are object sizes ignored?)")

    def eviction_hook(s: PluginState, req: Any) -> Any:
        # libCacheSim asks for the victim before its miss hook admits the request; the
        # engine admits it here, in the same step as the eviction.
        i = s.index(req.obj_id)
        if s.admitted == i:
            raise RuntimeError("rlcache plugin: a second eviction for one request; the "
                               "plugin counts objects, read the trace with unit_size_reader")
        s.engine.access(i)
        s.admitted = i
        return s.keys[s.engine.victim]

    def miss_hook(s: PluginState, req: Any) -> None:
        i = s.index(req.obj_id)
        if s.admitted == i:
            s.admitted = -1
        else:
            s.engine.access(i)

    def remove_hook(s: PluginState, obj_id: Any) -> None:
        s.engine.remove(s.index(obj_id))

    cache = lcs.PluginCache(capacity, init_hook, hit_hook, miss_hook, eviction_hook,
                            remove_hook, lambda s: None, cache_name=name)
    cache.rlcache = holder[-1] if holder else None
    return cache


def unit_size_reader(path: str | os.PathLike[str]) -> Any:
    """A libCacheSim reader of an oracleGeneral trace (``.zst`` too), sizes ignored."""
    import libcachesim as lcs

    params = lcs.ReaderInitParam(ignore_obj_size=True)
    return lcs.TraceReader(str(path), lcs.TraceType.ORACLE_GENERAL_TRACE, params)
