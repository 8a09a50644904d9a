"""The cache env on the compiled engine against the Python reference: for the same actions,
the same observations (bit for bit), rewards, ends and infos, on generated and real traces."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from rlcache.cache.generators import generate
from rlcache.cache.trace import Trace
from rlcache.envs.cache_env import CacheEnv, CacheEnvConfig
from tests.shared_traces import real_or_stand_in as _real

K16 = ["lru", "lfu", "fifo", "mru"] + ["random"] * 12
ALL = ["lru", "lfu", "fifo", "mru", "lrfu", "random", "random"]


def _play(env: CacheEnv, episodes: int, seed: int, policy: int | None) -> list[tuple[Any, ...]]:
    """Every (obs, reward, terminated, info) of ``episodes`` episodes; random or fixed actions."""
    rng = np.random.default_rng(seed)
    out: list[tuple[Any, ...]] = []
    for ep in range(episodes):
        obs, info = env.reset(seed=seed if ep == 0 else None)
        out.append((obs.view(np.int32).copy(), info))
        while True:
            a = int(rng.integers(env.action_space.n)) if policy is None else policy
            obs, reward, term, trunc, info = env.step(a)
            out.append((obs.view(np.int32).copy(), reward, term, trunc, info))
            if term:
                break
    return out


def _same(config: CacheEnvConfig, trace: Trace | None, episodes: int = 2,
          policy: int | None = None) -> int:
    """Play both engines on the same actions; assert equal steps; return the step count."""
    ref = _play(CacheEnv(copy.copy(config), trace, engine="python"), episodes, 3, policy)
    fast_env = CacheEnv(copy.copy(config), trace, engine="compiled")
    assert fast_env.compiled
    fast = _play(fast_env, episodes, 3, policy)
    assert len(ref) == len(fast)
    for i, (a, b) in enumerate(zip(ref, fast, strict=True)):
        assert np.array_equal(a[0], b[0]), f"observation {i} differs"
        assert a[1:] == b[1:], f"step {i}: {a[1:]} != {b[1:]}"
    return len(ref)


@pytest.mark.parametrize("features", ["basic", "extended", "history"])
@pytest.mark.parametrize("reward", ["oracle", "hits", "belady", "hits_oracle"])
def test_generated_traces_step_as_the_reference(features: str, reward: str) -> None:
    cfg = CacheEnvConfig.from_kwargs(
        workload="phased", requests=20_000, objects=2_000, cache_size=0.05, window=3_000,
        reward=reward, features=features, candidates=ALL, cache_sizes=[0.02, 0.05],
        ghost_factor=4, oracle_weight=0.5)
    assert _same(cfg, None) > 500


@pytest.mark.parametrize("name", ["cloudPhysicsIO", "cache2k_web12", "twitter_c52",
                                  "arc_oltp"])
def test_real_traces_step_as_the_reference(name: str) -> None:
    trace = _real(name, 30_000)
    cfg = CacheEnvConfig.from_kwargs(
        cache_size=0.01, cache_sizes=[0.005, 0.01, 0.05], window=3_000, reward="oracle",
        features="history" if name in ("arc_oltp", "twitter_c52") else "extended",
        ghost_factor=4, candidates=K16, validation=0.2)
    assert _same(cfg, trace, episodes=3) > 300
    # the validation env: the whole held-out slice, rewards hits / requests
    val = CacheEnv(cfg, trace).validation_env()
    ref = CacheEnv(cfg, trace, engine="python").validation_env()
    assert val is not None and ref is not None and val.compiled and not ref.compiled
    for _ in range(2):
        assert _play(val, 1, 0, 0)[-1][1:] == _play(ref, 1, 0, 0)[-1][1:]


@pytest.mark.parametrize("action", [0, 1, 2, 3, 4])
def test_constant_action_is_the_classic_policy(action: int) -> None:
    cfg = CacheEnvConfig.from_kwargs(workload="zipf_scan", requests=15_000, objects=1_500,
                                     cache_size=0.1, window=4_000, candidates=ALL,
                                     features="extended")
    env = CacheEnv(cfg)
    steps = _play(env, 1, 0, action)
    name = ["lru", "lfu", "fifo", "mru", "lrfu"][action]
    assert steps[-1][-1]["hits"] == env.baseline_hits(name)


def test_whole_trace_window_and_deepcopy() -> None:
    trace = generate("loop", n_requests=6_000, n_objects=180, seed=1)
    cfg = CacheEnvConfig.from_kwargs(cache_size=150, window=None, warmup=0, features="basic",
                                     candidates=ALL)
    assert _same(cfg, trace, episodes=2) > 1000
    env = CacheEnv(cfg, trace)
    env.reset(seed=0)
    clone = copy.deepcopy(env)
    a = [env.step(3)[0] for _ in range(20)]
    b = [clone.step(3)[0] for _ in range(20)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_engine_choice() -> None:
    base = {"workload": "zipf", "requests": 5_000, "objects": 500, "window": 1_000}
    assert CacheEnv(CacheEnvConfig.from_kwargs(**base)).compiled
    for extra in ({"features": "sourced"}, {"candidates": ["lru", "cold", "random"]}):
        env = CacheEnv(CacheEnvConfig.from_kwargs(**base, **extra))
        assert not env.compiled
        with pytest.raises(ValueError, match="compiled engine"):
            CacheEnv(CacheEnvConfig.from_kwargs(**base, **extra), engine="compiled")
    env = CacheEnv(CacheEnvConfig.from_kwargs(**base))
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="engine='python'"):
        _ = env.state
    with pytest.raises(ValueError, match="outside"):
        env.step(7)
    with pytest.raises(ValueError, match="engine"):
        CacheEnv(CacheEnvConfig.from_kwargs(**base), engine="fast")
