"""Serving a trained policy: a cachetools cache and a libCacheSim plugin, one engine.

``LearnedCache(maxsize, policy)`` is a ``cachetools.Cache`` (``@cached`` works);
``learned_plugin(capacity, policy)`` runs the same decisions inside libCacheSim.
"""

from rlcache.serve.cache import CacheStats, LearnedCache, LockedCache
from rlcache.serve.engine import PolicyEngine, make_engine
from rlcache.serve.libcachesim import learned_plugin, unit_size_reader

__all__ = ["CacheStats", "LearnedCache", "LockedCache", "PolicyEngine", "learned_plugin",
           "make_engine", "unit_size_reader"]
