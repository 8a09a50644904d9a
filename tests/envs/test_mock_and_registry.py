"""Our envs pass Gymnasium's checker; make_env maps names and Gymnasium ids."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlcache.envs import MockCacheEnvironment, make_env
from rlcache.errors import UserError


def run_policy(env: MockCacheEnvironment, policy, episodes: int) -> float:
    total = 0.0
    env.reset(seed=0)
    for _ in range(episodes):
        obs, _ = env.reset()
        done = False
        while not done:
            obs, r, term, trunc, _ = env.step(policy(env, obs))
            total += r
            done = term or trunc
    return total / episodes


def test_mock_passes_check_env() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(MockCacheEnvironment())
    assert MockCacheEnvironment().observation_space.shape == (60,)
    assert MockCacheEnvironment().action_space.n == 7


def test_mock_has_a_learnable_signal_and_terminates() -> None:
    env = MockCacheEnvironment()
    rnd = run_policy(env, lambda e, o: int(e.action_space.sample()), 20)
    best = run_policy(env, lambda e, o: int(np.argmax(0.7 * o[0:56:8] + 0.3 * o[1:56:8])), 20)
    assert best == 200.0  # never misses, so runs to truncation
    assert rnd < 15.0  # terminates early through misses


def test_mock_is_deterministic_under_seed() -> None:
    a, b = MockCacheEnvironment(), MockCacheEnvironment()
    oa, _ = a.reset(seed=7)
    ob, _ = b.reset(seed=7)
    np.testing.assert_array_equal(oa, ob)
    for act in [0, 3, 6, 1]:
        ra = a.step(act)
        rb = b.step(act)
        np.testing.assert_array_equal(ra[0], rb[0])
        assert ra[1:4] == rb[1:4]


def test_make_env_names() -> None:
    assert isinstance(make_env("mock"), MockCacheEnvironment)
    assert make_env("mock", episode_length=5).episode_length == 5
    cart = make_env("CartPole-v1")
    assert cart.observation_space.shape == (4,)
    with pytest.raises(UserError, match="unknown environment"):
        make_env("NoSuchEnv-v0")
    with pytest.raises(UserError, match="bad argument"):
        make_env("mock", colour="red")
    for key, value in [("episode_length", ""), ("n_actions", 1), ("max_misses", 2.5),
                       ("features", 10**12)]:
        with pytest.raises(UserError, match=f"env.{key}: expected an integer"):
            make_env("mock", **{key: value})
