"""The cache env's training-only options: a held-out validation slice that chooses the
checkpoint (``env.validation``) and a capacity drawn per episode (``env.cache_sizes``)."""

from __future__ import annotations

import numpy as np
import pytest

from rlcache import builders
from rlcache.config import RunConfig
from rlcache.envs.cache_env import CacheEnv, CacheEnvConfig
from rlcache.envs.trace_replay import evaluate_on_trace
from rlcache.errors import UserError

SMALL = {"workload": "zipf", "requests": 12_000, "objects": 1_500, "cache_size": 0.1,
         "window": 2_000}


def play(env: CacheEnv, action: int = 0, seed: int | None = None) -> tuple[float, dict]:
    """One episode always taking ``action``: (return, last info)."""
    env.reset(seed=seed)
    total = 0.0
    while True:
        _, reward, terminated, _, info = env.step(action)
        total += reward
        if terminated:
            return total, info


def test_validation_holds_out_the_end_of_the_trace() -> None:
    full = CacheEnv.from_kwargs(**SMALL)
    env = CacheEnv.from_kwargs(**SMALL, validation=0.25)
    assert len(env.trace) == 9_000 and env.held_out is not None
    assert len(env.held_out) == 3_000
    assert np.array_equal(env.held_out.ids, full.trace.ids[9_000:])
    assert np.array_equal(env.trace.ids, full.trace.ids[:9_000])
    # Training windows are drawn inside the first part only.
    for seed in range(5):
        env.reset(seed=seed)
        assert env.window_start + env.warmup + env.window <= 9_000
    capped = CacheEnv.from_kwargs(**SMALL, validation=0.25, validation_max=1_000)
    assert len(capped.held_out) == 1_000 and len(capped.trace) == 11_000
    assert len(CacheEnv.from_kwargs(**SMALL, validation=2_000).held_out) == 2_000
    assert CacheEnv.from_kwargs(**SMALL).validation_env() is None


def test_validation_env_replays_the_slice_and_returns_its_hit_ratio() -> None:
    env = CacheEnv.from_kwargs(**SMALL, validation=0.25, reward="oracle")
    val = env.validation_env()
    assert val is not None and val.trace is env.held_out and val.config.reward == "hits"
    ret, info = play(val, 0)
    # Always action 0 is LRU: its hits on the slice after warm-up; the return is their
    # share of the requests (less the few hits served before the first decision).
    assert info["hits"] == val.baseline_hits("lru")
    assert info["hit_ratio"] - 0.005 < ret <= info["hit_ratio"]
    assert val.window == len(env.held_out) - val.warmup


def test_cache_sizes_draw_per_episode_and_cycle_in_validation() -> None:
    env = CacheEnv(CacheEnvConfig.from_kwargs(**SMALL, cache_sizes=[0.01, 0.1],
                                              validation=0.25), engine="python")
    seen = set()
    for seed in range(12):
        env.reset(seed=seed)
        seen.add(env.capacity)
        assert env.features.scale == env.capacity
        assert env.state.capacity == env.capacity
    assert len(seen) == 2
    val = env.validation_env()
    assert val is not None
    caps = []
    for _ in range(4):
        ret, _ = play(val, 0)
        caps.append(val.capacity)
        assert 0.0 < ret < 1.0
    assert caps[0] == caps[2] != caps[1] == caps[3]
    with pytest.raises(UserError, match=r"env\.cache_sizes"):
        CacheEnv.from_kwargs(**SMALL, cache_sizes=[2.5])
    with pytest.raises(UserError, match=r"env\.validation"):
        CacheEnv.from_kwargs(**SMALL, validation=1.5)


def test_training_options_do_not_change_the_judged_trace() -> None:
    """``rlcache evaluate`` replays the whole (split) trace at ``cache_size``."""
    plain = evaluate_on_trace(lambda obs: 0, SMALL, policies=("LRU", "BELADY"))
    held = evaluate_on_trace(lambda obs: 0, {**SMALL, "validation": 0.2,
                                             "cache_sizes": [0.01, 0.1]},
                             policies=("LRU", "BELADY"))
    assert plain == held


def test_trainer_evaluates_on_the_validation_slice(tmp_path) -> None:
    cfg = RunConfig.from_dict({
        "training": {"max_episodes": 1, "eval_frequency": 1, "eval_episodes": 2},
        "rl": {"learning_starts": 10, "buffer_size": 1000},
        "env": {"name": "cache", **SMALL, "validation": 0.25, "cache_sizes": [0.05, 0.1]}})
    trainer = builders.build_trainer(cfg, tmp_path / "run")
    assert np.array_equal(trainer.eval_env.trace.ids, trainer.env.held_out.ids)
    assert trainer.eval_env.config.window is None
    trainer.train()
    entry = trainer.evaluations[-1]
    assert 0.0 < entry["mean_reward"] < 1.0
    assert (tmp_path / "run" / "checkpoints" / "best.pt").exists()


def test_warmup_factor_lengthens_training_warmups_only() -> None:
    sizes = {**SMALL, "cache_size": 0.02, "cache_sizes": [0.02, 0.5], "validation": 0.25}
    env = CacheEnv.from_kwargs(**sizes, warmup_factor=16)
    (small, w_small), (big, w_big) = env._sizes
    assert w_small == 16 * small  # 16 capacities ...
    assert w_big == max(4 * big, (9_000 - 2_000) // 2)  # ... in half the window's room
    for seed in range(4):
        env.reset(seed=seed)
        assert env.window_start + env.warmup + env.window <= 9_000
    val = env.validation_env()
    assert val is not None and all(w == 4 * c for c, w in val._sizes)
    with pytest.raises(UserError, match=r"env\.warmup_factor"):
        CacheEnv.from_kwargs(**SMALL, warmup_factor=0.5)
