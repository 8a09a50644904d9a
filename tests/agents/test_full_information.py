"""rl.full_information: a bandit agent regresses every action's value on its own stored
reward, so actions it never takes are learned too; the replay keeps those rewards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlcache.agents import DQNAgent, DQNConfig
from rlcache.agents.replay import ReplayBuffer
from rlcache.envs.cache_env import CacheEnv, CacheEnvConfig
from rlcache.errors import UserError
from rlcache.training import Trainer, TrainingConfig


def _agent(**kw: object) -> DQNAgent:
    base = dict(state_dim=4, action_dim=3, hidden_sizes=[32], batch_size=32,
                buffer_size=2000, learning_starts=64, train_freq=1, gamma=0.0,
                learning_rate=3e-3, epsilon_start=0.0, epsilon_end=0.0, seed=0,
                double_q=True, full_information=True)
    base.update(kw)
    return DQNAgent(DQNConfig(**base))


def _rewards(obs: np.ndarray) -> np.ndarray:
    """A fixed reward per action, a function of the observation."""
    return np.array([obs[0], -obs[0], 0.5 * obs[1]], dtype=np.float32)


def test_untaken_actions_are_learned() -> None:
    agent = _agent()
    rng = np.random.default_rng(1)
    for _ in range(600):
        obs = rng.uniform(-1, 1, 4).astype(np.float32)
        every = _rewards(obs)
        agent.store_transition(obs, 0, float(every[0]), obs, True, False,
                               action_rewards=every)  # always action 0
        agent.train_step()
    test = rng.uniform(-1, 1, (200, 4)).astype(np.float32)
    err = np.abs(agent.q_values(test) - np.stack([_rewards(o) for o in test]))
    assert err[:, 1].mean() < 0.1 and err[:, 2].mean() < 0.1  # never taken, still learned


def test_needs_gamma_zero_and_the_rewards() -> None:
    with pytest.raises(UserError, match=r"rl\.full_information"):
        _agent(gamma=0.5)
    with pytest.raises(UserError, match=r"env\.action_rewards"):
        _agent().store_transition(np.zeros(4), 0, 0.0, np.zeros(4), False, False)


def test_replay_keeps_action_rewards_through_batches_and_state() -> None:
    buf = ReplayBuffer(5, 2, action_dim=3)
    every = np.arange(21, dtype=np.float32).reshape(7, 3)
    z = np.zeros((7, 2), dtype=np.float32)
    buf.add_batch(z, np.zeros(7, dtype=np.int64), np.zeros(7), z, np.zeros(7), every)
    assert sorted(buf.action_rewards[:, 0].tolist()) == [6, 9, 12, 15, 18]
    other = ReplayBuffer(5, 2, action_dim=3)
    other.load_state_dict(buf.state_dict())
    assert np.array_equal(other.action_rewards, buf.action_rewards)
    assert ReplayBuffer(5, 2).action_rewards.size == 0  # off: nothing allocated


@pytest.mark.parametrize("num_envs", [1, 2])
def test_trainer_feeds_the_env_action_rewards(tmp_path: Path, num_envs: int) -> None:
    k = ["lru", "lfu", "fifo", "mru", "random", "random"]
    env = CacheEnv(CacheEnvConfig.from_kwargs(
        workload="zipf", requests=6_000, objects=800, cache_size=0.05, window=800,
        reward="distance", action_rewards=True, features="extended", candidates=k))
    agent = _agent(state_dim=13 * len(k) + 4, action_dim=len(k), network="candidate",
                   candidate_features=13, global_features=4, learning_starts=50,
                   train_freq=4, epsilon_start=1.0, exploration_steps=200)
    cfg = TrainingConfig(max_episodes=2, max_steps_per_episode=10_000, eval_frequency=100,
                         early_stopping=False, seed=0, plot_frequency=1000, verbose=False,
                         num_envs=num_envs)
    Trainer(agent, env, cfg, tmp_path / "run").train()
    n = len(agent.replay)
    assert agent.num_updates > 0 and n > 100
    stored = agent.replay.action_rewards[:n]
    taken = stored[np.arange(n), agent.replay.actions[:n]]
    assert np.allclose(taken, agent.replay.rewards[:n], atol=1e-6)
    assert stored.min() >= -1.0 and stored.max() <= 1.0 and np.ptp(stored, axis=1).max() > 0
