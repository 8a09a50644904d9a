"""Whole-process times: ``rlcache --help``, ``rlcache evaluate``, and CartPole DQN vs SB3.

Every figure is the wall time of a fresh process, start to exit (medians of
``--repeats``), so imports count::

    .venv/bin/python bench/startup.py                    # help, evaluate, cartpole
    .venv/bin/python bench/startup.py --only cartpole --steps 20000 --repeats 3

- ``help``: ``rlcache --help``.
- ``evaluate``: ``rlcache evaluate -k RUN --json`` on a small cache run trained first
  (``--run`` to use another): the whole process, and the same less the agent row's
  ``replay_seconds`` (imports, checkpoint, trace and the baselines' replays remain).
- ``cartpole``: ``rlcache train -c configs/cartpole.yaml --steps N`` (the RL Zoo
  hyperparameters, default 20,000 steps; the YAML's evaluation and checkpoint cadence, or
  TrainingConfig's defaults with ``--cadence default``) against a Python process that
  imports Stable-Baselines3 and runs ``DQN(...).learn(N)`` with the same settings.
  SB3 must be importable (``--sb3-path`` adds a folder to its PYTHONPATH).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SB3 = """
import sys, gymnasium as gym
from stable_baselines3 import DQN
steps = int(sys.argv[1])
model = DQN("MlpPolicy", gym.make("CartPole-v1"), learning_rate=2.3e-3, buffer_size=100000,
            learning_starts=1000, batch_size=64, tau=1.0, gamma=0.99, train_freq=256,
            gradient_steps=128, target_update_interval=10, exploration_fraction=0.16,
            exploration_initial_eps=1.0, exploration_final_eps=0.04, max_grad_norm=10.0,
            policy_kwargs={"net_arch": [256, 256]}, seed=0, device="cpu", verbose=0)
model.learn(total_timesteps=steps)
"""


def _env(extra_path: str | None = None) -> dict[str, str]:
    path = str(ROOT / "src") + (os.pathsep + extra_path if extra_path else "")
    return {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one process and its stdout; a failure stops the bench."""
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return wall, done.stdout


def cli(*args: str) -> list[str]:
    """``python -m rlcache.cli ARGS``."""
    return [sys.executable, "-m", "rlcache.cli", *args]


def bench_evaluate(run: Path | None, tmp: Path, repeats: int) -> dict[str, float]:
    """Whole ``evaluate -k RUN --json`` and the time before the agent's replay."""
    if run is None:
        run = tmp / "cache-run"
        timed(cli("train", "-c", str(ROOT / "configs" / "cache.yaml"), "--episodes", "2",
                  "--set", "training.eval_frequency=2", "--set", "training.verbose=false",
                  "-o", str(run)), _env())
    walls, ready = [], []
    for _ in range(repeats):
        wall, out = timed(cli("evaluate", "-k", str(run), "--json"), _env())
        row = json.loads(out)["agent"]
        walls.append(wall)
        ready.append(wall - float(row.get("replay_seconds", 0.0)))
    return {"evaluate_wall_s": statistics.median(walls),
            "evaluate_wall_minus_agent_replay_s": statistics.median(ready)}


def bench_cartpole(steps: int, cadence: str, sb3_path: str | None, tmp: Path,
                   repeats: int) -> dict[str, float]:
    """rlcache train vs SB3 learn, whole processes, alternating."""
    sets = [] if cadence == "config" else [
        "--set", "training.eval_frequency=100", "--set", "training.checkpoint_frequency=500",
        "--set", "training.plot_frequency=1000"]
    ours, theirs = [], []
    for i in range(repeats):
        out = tmp / f"cartpole-{i}"
        ours.append(timed(cli("train", "-c", str(ROOT / "configs" / "cartpole.yaml"),
                              "--steps", str(steps), "--set", "training.verbose=false",
                              *sets, "-o", str(out)), _env())[0])
        theirs.append(timed([sys.executable, "-c", SB3, str(steps)], _env(sb3_path))[0])
    r, s = statistics.median(ours), statistics.median(theirs)
    return {"rlcache_train_wall_s": r, "sb3_wall_s": s, "rlcache_over_sb3": r / s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=("help", "evaluate", "cartpole"),
                        default=["help", "evaluate", "cartpole"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run", type=Path, help="a cache run folder to evaluate")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--cadence", choices=("config", "default"), default="config")
    parser.add_argument("--sb3-path", help="a folder holding stable_baselines3")
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="rlcache-startup-") as tmp:
        if "help" in args.only:
            results["help_wall_s"] = statistics.median(
                timed(cli("--help"), _env())[0] for _ in range(args.repeats))
        if "evaluate" in args.only:
            results.update(bench_evaluate(args.run, Path(tmp), args.repeats))
        if "cartpole" in args.only:
            results.update(bench_cartpole(args.steps, args.cadence, args.sb3_path, Path(tmp),
                                          args.repeats))
    for key, value in results.items():
        print(f"{key:40s} {value:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
