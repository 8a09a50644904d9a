"""env.action_rewards and the distance reward: every candidate's reward in the step's
info, equal to the reward the step pays for the taken one, the same on both engines."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from rlcache.cache.trace import NEVER
from rlcache.envs.cache_env import CacheEnv, CacheEnvConfig
from rlcache.envs.features import candidate_scores, distance_scores
from rlcache.errors import UserError

K = ["lru", "lfu", "fifo", "mru", "random", "random"]


def _config(reward: str, **kw: object) -> CacheEnvConfig:
    return CacheEnvConfig.from_kwargs(**{
        "workload": "zipf_scan", "requests": 10_000, "objects": 1_200, "cache_size": 0.05,
        "window": 1_500, "reward": reward, "features": "history", "candidates": K,
        "action_rewards": True, **kw})


def _steps(env: CacheEnv, seed: int) -> list[tuple[float, np.ndarray]]:
    """(reward, action_rewards) of one episode under random actions."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    out = []
    while True:
        _, reward, term, _, info = env.step(int(rng.integers(env.action_space.n)))
        out.append((reward, info["action_rewards"]))
        if term:
            return out


def test_scores_rank_and_distance() -> None:
    nu = np.array([15, 11, NEVER, 15], dtype=np.int64)
    assert candidate_scores(nu, 10, 4, "oracle").tolist() == pytest.approx(
        [1 - 2 / 3, -1.0, 1.0, 1 - 2 / 3])
    d = distance_scores(nu, 10, 4)
    assert d[2] == 1.0 and -1.0 < d[1] < d[0] == d[3] < 1.0
    # scale-free: the same distances in capacities score the same
    assert distance_scores(np.array([20]), 0, 10) == distance_scores(np.array([200]), 0, 100)


@pytest.mark.parametrize("reward", ["oracle", "distance"])
def test_info_holds_every_candidates_reward_on_both_engines(reward: str) -> None:
    cfg = _config(reward, cache_sizes=[0.02, 0.05])
    ref = _steps(CacheEnv(copy.copy(cfg), engine="python"), 4)
    fast = _steps(CacheEnv(copy.copy(cfg), engine="compiled"), 4)
    assert len(ref) == len(fast) > 50
    for (r, every), (rf, every_f) in zip(ref, fast, strict=True):
        assert r == rf and np.array_equal(every, every_f)
        assert every.shape == (len(K),) and every.min() >= -1.0 and every.max() <= 1.0
        if reward == "oracle":
            assert every.max() == 1.0  # Belady's choice within the candidates
    # the taken candidate's entry is the step's reward
    env = CacheEnv(cfg, engine="python")
    env.reset(seed=1)
    for a in (0, 3, 5, 1):
        _, reward_a, _, _, info = env.step(a)
        assert info["action_rewards"][a] == pytest.approx(reward_a, abs=1e-6)


def test_action_rewards_needs_a_per_candidate_reward_and_stays_out_of_validation() -> None:
    with pytest.raises(UserError, match=r"env\.action_rewards"):
        _config("hits")
    env = CacheEnv(_config("distance", validation=0.2))
    val = env.validation_env()
    assert val is not None and not val.config.action_rewards
    val.reset(seed=0)
    assert "action_rewards" not in val.step(0)[4]
