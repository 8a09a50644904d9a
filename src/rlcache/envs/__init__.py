"""Gymnasium environments: MockCacheEnvironment, CacheEnv, and make_env(name)."""

from rlcache.envs.mock import MockCacheEnvironment
from rlcache.envs.registry import ENVS, make_env

__all__ = ["ENVS", "MockCacheEnvironment", "make_env"]
