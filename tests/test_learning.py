"""Learning, end to end through the builders and the Trainer: the agent really learns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlcache.builders import build_trainer
from rlcache.config import load_run_config
from rlcache.envs import MockCacheEnvironment

ROOT = Path(__file__).resolve().parents[1]


def random_policy_mean(episodes: int, seed: int) -> float:
    """Mean return of the uniform random policy on the mock env, same eval seeds."""
    env = MockCacheEnvironment()
    env.action_space.seed(seed)
    returns = []
    for i in range(episodes):
        env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            _, reward, term, trunc, _ = env.step(env.action_space.sample())
            total += reward
            done = term or trunc
        returns.append(total)
    return float(np.mean(returns))


def test_mock_agent_beats_random_by_a_wide_margin(tmp_path: Path) -> None:
    config = load_run_config(ROOT / "configs" / "mock.yaml",
                             sets=["training.max_total_steps=12000", "training.verbose=false",
                                   "training.eval_frequency=1000", "rl.exploration_steps=6000",
                                   "rl.learning_starts=500"])
    trainer = build_trainer(config, tmp_path / "run")
    trainer.train()
    trained = trainer.evaluate_only(20)["mean_reward"]
    baseline = random_policy_mean(20, seed=trainer.eval_seed)
    # Random earns ~1/7 hit per step and dies after ~40 steps (about 5 per episode); a
    # learned policy picks the best candidate and survives far longer (measured after
    # 12k steps: 133 against 4.6).
    assert baseline < 10
    assert trained >= 100, (trained, baseline)
    assert trained >= 20 * baseline


@pytest.mark.slow  # ~35 s of training; the cache learning tests stay in the default run
def test_cartpole_zoo_config_reaches_475(tmp_path: Path) -> None:
    """configs/cartpole.yaml (RL Zoo hyperparameters, 50,000 steps) solves CartPole-v1.

    Measured with this seed: 500 (all five seeds 0-4 reach 475 at some evaluation;
    4 of 5 end at 500). About 40 s on one core.
    """
    config = load_run_config(ROOT / "configs" / "cartpole.yaml",
                             sets=["training.verbose=false", "training.seed=0"])
    trainer = build_trainer(config, tmp_path / "cartpole")
    stats = trainer.train()
    assert stats["total_steps"] == 50_000
    assert trainer.evaluate_only(10)["mean_reward"] >= 475
