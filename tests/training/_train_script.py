"""Builds the small, seeded runs the training tests use; also a subprocess entry point.

    python _train_script.py OUT --episodes N [--env mock|cartpole] [--resume]
        [--step-delay SECONDS] [--ready-file PATH]

``--step-delay`` slows every env step (without changing any result) so that a test can
signal the process mid-run; ``--ready-file`` is created once training is under way.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

from rlcache.agents import DQNAgent, DQNConfig
from rlcache.envs import make_env
from rlcache.training import Trainer, TrainingConfig

# One thread: the CI boxes have 2 cores shared with other jobs, and small matrices gain
# nothing from more; it also keeps in-process and subprocess runs on the same kernels.
torch.set_num_threads(1)


class SlowEnv(gym.Wrapper):
    """Sleeps on each step; touches nothing else."""

    def __init__(self, env: gym.Env, delay: float) -> None:
        super().__init__(env)
        self.delay = delay

    def step(self, action: Any):  # type: ignore[override]
        time.sleep(self.delay)
        return self.env.step(action)


def agent_config(env_name: str) -> DQNConfig:
    dims = {"state_dim": 4, "action_dim": 2} if env_name == "cartpole" else {}
    return DQNConfig(**dims, hidden_sizes=[32, 32], buffer_size=2000, learning_starts=64,
                     batch_size=16, train_freq=2, exploration_steps=1500,
                     target_update_interval=100, seed=3)


def training_config(episodes: int, **overrides: Any) -> TrainingConfig:
    values: dict[str, Any] = {
        "max_episodes": episodes, "max_steps_per_episode": 40, "eval_frequency": 6,
        "eval_episodes": 2, "checkpoint_frequency": 4, "keep_last": 2, "min_episodes": 0,
        "patience": 100, "seed": 7, "plot_frequency": 1000, "log_frequency": 5,
        "verbose": False,
    }
    values.update(overrides)
    return TrainingConfig(**values)


def build(out: str | Path, episodes: int, env_name: str = "mock", step_delay: float = 0.0,
          **overrides: Any) -> Trainer:
    """A seeded Trainer on the mock env or CartPole-v1 (small network and buffer)."""
    env = make_env("mock", episode_length=40) if env_name == "mock" else make_env("CartPole-v1")
    eval_env = None
    if step_delay:
        eval_env = SlowEnv(make_env("mock", episode_length=40) if env_name == "mock"
                           else make_env("CartPole-v1"), 0.0)
        env = SlowEnv(env, step_delay)
    agent = DQNAgent(agent_config(env_name))
    return Trainer(agent, env, training_config(episodes, **overrides), out, eval_env=eval_env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--episodes", type=int, required=True)
    parser.add_argument("--env", default="mock")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--step-delay", type=float, default=0.0)
    parser.add_argument("--ready-file")
    args = parser.parse_args(argv)
    trainer = build(args.out, args.episodes, args.env, step_delay=args.step_delay,
                    verbose=True)
    if args.resume:
        trainer.load_checkpoint(args.out)
    if args.ready_file:
        Path(args.ready_file).touch()
    trainer.train()
    return 0


if __name__ == "__main__":
    sys.exit(main())
