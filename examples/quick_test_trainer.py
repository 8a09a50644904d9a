#!/usr/bin/env python
"""Quick trainer test: fresh training, resume, evaluation, and every output file checked.

A walkthrough of the Python API that the ``rlcache`` CLI is built on::

    python examples/quick_test_trainer.py [OUTPUT_DIR]      # default results/quick_test

It trains the mock cache env for 30 episodes, resumes the run to 50, evaluates the
best agent greedily, and checks the run folder. It takes well under a minute.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from rlcache import builders, runs
from rlcache.config import load_run_config

ROOT = Path(__file__).resolve().parent.parent


def check(condition: bool, what: str) -> None:
    """Print [OK] or stop with [FAIL]."""
    print(f"   [{'OK' if condition else 'FAIL'}] {what}")
    if not condition:
        sys.exit(1)


def main() -> None:
    """Run the walkthrough."""
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/quick_test")
    if output.exists():
        shutil.rmtree(output)  # this example owns its folder
    print("=" * 60 + "\nQUICK TRAINER TEST\n" + "=" * 60)

    print("\n1. Resolving the config (configs/default.yaml, small overrides)...")
    config = load_run_config(
        ROOT / "configs" / "default.yaml",
        sets=["training.eval_frequency=10", "training.checkpoint_frequency=20",
              "training.verbose=false", "env.episode_length=50"],
        flags={"training.max_episodes": 30, "training.seed": 0},
    )
    print(f"   env {config.env_name}, agent {config.rl['agent_type']}, "
          f"{config.training.max_episodes} episodes")

    print(f"\n2. Creating the trainer in {output} and training...")
    trainer = builders.build_trainer(config, output)
    print(f"   Agent: {type(trainer.agent).__name__}, device {trainer.agent.device}")
    stats = trainer.train()
    print(f"   episodes {stats['total_episodes']}, steps {stats['total_steps']}, "
          f"best eval {stats['best_eval_reward']}")
    check(stats["total_episodes"] == 30, "trained 30 episodes")

    print("\n3. Verifying outputs...")
    ckpts = output / "checkpoints"
    for rel in ("checkpoints/best.pt", "checkpoints/best.json", "checkpoints/latest.pt",
                "checkpoints/latest.json", "checkpoints/checkpoint_ep20.pt",
                "checkpoints/checkpoint_ep20.json", "logs/training.log",
                "training_curves.png", "metrics.json", "config.yaml"):
        check((output / rel).is_file() and (output / rel).stat().st_size > 0, rel)
    metrics = json.loads((output / "metrics.json").read_text())
    for key in ("episode_rewards", "episode_lengths", "losses", "epsilons", "q_values",
                "evaluations", "total_episodes", "total_steps", "best_eval_reward",
                "elapsed_seconds", "stopped_early"):
        check(key in metrics, f"metrics.json has {key}")
    check(len(metrics["episode_rewards"]) == 30, "30 episode rewards")
    check(len(metrics["evaluations"]) == 3, "3 evaluations (every 10 episodes)")
    meta = json.loads((ckpts / "latest.json").read_text())
    check(meta["episode"] == 30 and len(meta["sha256"]) == 64, "latest.json: episode, sha256")

    print("\n4. Resuming from latest.pt to 50 episodes in total...")
    loaded = runs.resolve_resume(ckpts / "latest.pt", output)
    resumed = load_run_config(flags={"training.max_episodes": 50},
                              base=runs.checkpoint_run_config(loaded))
    trainer = builders.build_trainer(resumed, output, resume=loaded)
    check(trainer.episode == 30, f"loaded from episode {trainer.episode}")
    stats = trainer.train()
    check(stats["total_episodes"] == 50, "resumed training reached episode 50")
    metrics = json.loads((output / "metrics.json").read_text())
    check(len(metrics["episode_rewards"]) == 50, "metrics continue (50 episode rewards)")

    print("\n5. Evaluating the best checkpoint greedily...")
    best = runs.resolve_resume(ckpts / "best.pt", output)
    evaluator = builders.build_trainer(runs.checkpoint_run_config(best), output, resume=best)
    result = evaluator.evaluate_only(5)
    print(f"   [OK] Evaluation: {result['mean_reward']:.2f} ± {result['std_reward']:.2f} "
          f"over {result['episodes']} episodes")

    print("\n" + "=" * 60 + "\nALL TESTS PASSED!\n" + "=" * 60)


if __name__ == "__main__":
    main()
