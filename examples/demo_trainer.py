#!/usr/bin/env python
"""Trainer demo: training, early stopping, resume, evaluation, plots and metrics.

A longer walkthrough of the Python API than ``quick_test_trainer.py``::

    python examples/demo_trainer.py [OUTPUT_DIR]      # default results/demo

1. DQN on the mock cache env, then resumed to a larger budget.
2. Double DQN with aggressive early stopping: it stops before its episode budget,
   and the early-stopping state survives a resume (the resumed run stops at once).
3. Greedy evaluation of both best checkpoints (nothing in the runs changes).
4. Plots: each run's curves, and both runs overlaid; metrics summarised from metrics.json.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

from rlcache import builders, runs
from rlcache.cli.plot import plot_runs
from rlcache.config import RunConfig, load_run_config

ROOT = Path(__file__).resolve().parent.parent


def check(condition: bool, what: str) -> None:
    """Print [OK] or stop with [FAIL]."""
    print(f"   [{'OK' if condition else 'FAIL'}] {what}")
    if not condition:
        sys.exit(1)


def config_for(agent_type: str, episodes: int, **training: object) -> RunConfig:
    """configs/mock.yaml, shortened for a demo."""
    sets = [f"training.{key}={value}" for key, value in training.items()]
    return load_run_config(
        ROOT / "configs" / "mock.yaml",
        sets=["training.verbose=false", "training.eval_frequency=10",
              "training.eval_episodes=5", "training.checkpoint_frequency=20",
              "env.episode_length=60", "rl.learning_starts=300",
              "rl.exploration_steps=2500", *sets],
        flags={"training.max_episodes": episodes, "rl.agent_type": agent_type,
               "training.seed": 1},
    )


def digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def summarise(run: Path) -> dict:
    """Print and return the headline figures of a run's metrics.json."""
    metrics = json.loads((run / "metrics.json").read_text())
    rewards = metrics["episode_rewards"]
    losses = [v for v in metrics["losses"] if v is not None]
    print(f"   {run.name}: {metrics['total_episodes']} episodes, {metrics['total_steps']} steps, "
          f"first-10 reward {sum(rewards[:10]) / 10:.1f}, last-10 {sum(rewards[-10:]) / 10:.1f}, "
          f"{len(metrics['evaluations'])} evaluations, best eval {metrics['best_eval_reward']}, "
          f"final epsilon {metrics['epsilons'][-1]:.3f}, "
          f"last loss {losses[-1] if losses else float('nan'):.4f}, "
          f"stopped early {metrics['stopped_early']}")
    return metrics


def main() -> None:
    """Run the demo."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/demo")
    if root.exists():
        shutil.rmtree(root)  # this demo owns its folder
    dqn_dir, ddqn_dir = root / "dqn", root / "double_dqn"

    print("1. DQN: 40 episodes, then resumed to 60")
    trainer = builders.build_trainer(config_for("dqn", 40, early_stopping="false"), dqn_dir)
    trainer.train()
    loaded = runs.resolve_resume("auto", dqn_dir)
    check(loaded is not None and loaded.meta["episode"] == 40, "resume auto finds episode 40")
    resumed = load_run_config(flags={"training.max_episodes": 60},
                              base=runs.checkpoint_run_config(loaded))
    stats = builders.build_trainer(resumed, dqn_dir, resume=loaded).train()
    check(stats["total_episodes"] == 60, "DQN run reached 60 episodes")

    print("2. Double DQN with early stopping (patience 2 evaluations, min_delta 1000)")
    es = config_for("double_dqn", 200, early_stopping="true", patience=2, min_episodes=20,
                    min_delta=1000.0)
    stats = builders.build_trainer(es, ddqn_dir).train()
    check(stats["stopped_early"], f"stopped early at episode {stats['total_episodes']}")
    check(stats["total_episodes"] < 200, "before the 200-episode budget")
    loaded = runs.resolve_resume("auto", ddqn_dir)
    again = load_run_config(base=runs.checkpoint_run_config(loaded))
    stats2 = builders.build_trainer(again, ddqn_dir, resume=loaded).train()
    check(stats2["total_episodes"] == stats["total_episodes"],
          "early-stopping state survives the resume (no more episodes)")

    print("3. Greedy evaluation of the best checkpoints (the runs stay untouched)")
    for run in (dqn_dir, ddqn_dir):
        before = digest(run)
        best = runs.load_checkpoint(run / "checkpoints" / "best.pt")
        evaluator = builders.build_trainer(runs.checkpoint_run_config(best), run,
                                           resume=best)
        result = evaluator.evaluate_only(5)
        print(f"   {run.name}: mean {result['mean_reward']:.2f} ± {result['std_reward']:.2f}")
        check(digest(run) == before, f"{run.name}: no file changed")

    print("4. Plots and metrics")
    for run in (dqn_dir, ddqn_dir):
        check((run / "training_curves.png").stat().st_size > 0, f"{run.name}/training_curves.png")
        summarise(run)
    overlay = plot_runs([dqn_dir, ddqn_dir], root / "comparison.png")
    check(overlay.stat().st_size > 0, f"overlay of both runs: {overlay}")

    print("\nDEMO COMPLETE")


if __name__ == "__main__":
    main()
