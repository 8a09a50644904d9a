"""Time saving and loading ``latest`` with a full 100,000-transition replay buffer.

    .venv/bin/python bench/checkpoint.py [--transitions 100000] [--repeats 5]

The agent is the default DQN (60-dim observations, 7 actions, [256, 256] net); its buffer
is filled with random transitions. "save" is Trainer._save_checkpoint("latest"): payload
build, one serialisation, atomic write with fsync, JSON. "load" is
Trainer.load_checkpoint: JSON, SHA-256 check, weights-only load, agent + trainer restore.
Target: under 0.5 s each on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from rlcache.agents import DQNAgent, DQNConfig
from rlcache.envs import make_env
from rlcache.training import Trainer, TrainingConfig


def build(out: Path, transitions: int) -> Trainer:
    agent = DQNAgent(DQNConfig(state_dim=60, action_dim=7, buffer_size=transitions, seed=0))
    return Trainer(agent, make_env("mock"), TrainingConfig(seed=0, verbose=False), out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rlcache-bench-") as tmp:
        out = Path(tmp) / "run"
        trainer = build(out, args.transitions)
        rng = np.random.default_rng(0)
        replay = trainer.agent.replay
        n = args.transitions
        replay.obs[:] = rng.standard_normal((n, 60), dtype=np.float32)
        replay.next_obs[:] = rng.standard_normal((n, 60), dtype=np.float32)
        replay.actions[:] = rng.integers(0, 7, n)
        replay.rewards[:] = rng.random(n, dtype=np.float32)
        replay.dones[:] = rng.random(n) < 0.01
        replay.size, replay.pos = n, 0
        trainer.agent.num_steps = n
        trainer.total_steps, trainer.episode = n, 100
        trainer.checkpoint_dir.mkdir(parents=True)

        saves, loads = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            trainer._save_checkpoint("latest")
            saves.append(time.perf_counter() - start)
            fresh = build(out, args.transitions)
            start = time.perf_counter()
            fresh.load_checkpoint(out / "checkpoints" / "latest.pt")
            loads.append(time.perf_counter() - start)
        assert torch.equal(torch.from_numpy(fresh.agent.replay.obs), torch.from_numpy(replay.obs))
        size = (out / "checkpoints" / "latest.pt").stat().st_size / 2**20

    print(f"latest.pt with {n:,} transitions of 60-dim observations: {size:.1f} MiB, "
          f"torch threads {torch.get_num_threads()}, {args.repeats} repetitions")
    for name, times in (("save", saves), ("load", loads)):
        print(f"  {name}: mean {statistics.mean(times):.3f} s, min {min(times):.3f} s, "
              f"max {max(times):.3f} s")
    ok = statistics.mean(saves) < 0.5 and statistics.mean(loads) < 0.5
    print("target < 0.5 s each:", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
