"""Profile the cache env inside a DQN training loop: env share of wall time.

Runs the Trainer's inner loop (select, step, store, learn) with the config's agent on
the config's env, timing env.step/reset separately, and a greedy forward pass alone.

    .venv/bin/python bench/cache_env_profile.py [--config configs/cache.yaml] [--steps N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from rlcache import builders
from rlcache.config import RunConfig, read_yaml


def main() -> None:
    """Print per-decision env cost, forward-pass cost and the env's share of wall time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/cache.yaml")
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = RunConfig.from_dict(read_yaml(args.config), args.config)
    env = builders.build_env(config, seed=0)
    agent = builders.build_agent(config, env)
    obs, _ = env.reset(seed=0)
    t_env = 0.0
    steps = decisions = 0
    start = time.perf_counter()
    while steps < args.steps:
        action = agent.select_action(obs)
        t0 = time.perf_counter()
        next_obs, reward, term, trunc, _ = env.step(action)
        t_env += time.perf_counter() - t0
        agent.store_transition(obs, action, reward, next_obs, term, trunc)
        agent.train_step()
        steps += 1
        decisions += 1
        obs = next_obs
        if term or trunc:
            t0 = time.perf_counter()
            obs, _ = env.reset()
            t_env += time.perf_counter() - t0
    wall = time.perf_counter() - start
    x = np.asarray(obs, dtype=np.float32)
    n_fwd = 5000
    t0 = time.perf_counter()
    for _ in range(n_fwd):
        agent.select_action(x, evaluate=True)
    fwd = (time.perf_counter() - t0) / n_fwd
    print(f"steps {steps}: wall {wall:.2f} s, env {t_env:.2f} s "
          f"({100 * t_env / wall:.1f}% of wall), {1e6 * t_env / decisions:.1f} us per "
          f"decision (requests served between decisions and resets included)")
    print(f"greedy forward pass (select_action, evaluate=True): {1e6 * fwd:.1f} us")
    print(f"agent loop per step (select + store + learn): "
          f"{1e6 * (wall - t_env) / steps:.1f} us")


if __name__ == "__main__":
    main()
