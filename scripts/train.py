#!/usr/bin/env python
"""The original training script, with exactly its flags, running the ``rlcache`` CLI's code.

Examples::

    python scripts/train.py --episodes 100 --output results/test_run
    python scripts/train.py --resume results/test_run/checkpoints/latest.pt --episodes 200
    python scripts/train.py --eval-only --checkpoint results/test_run/checkpoints/best.pt

``rlcache train`` / ``rlcache evaluate`` offer more (``--set``, ``--env``, ``--steps``, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"

try:
    import rlcache  # noqa: F401
except ImportError:  # a checkout that is not installed: use its src/ folder
    sys.path.insert(0, str(ROOT / "src"))

from rlcache.cli.common import CONTEXT_SETTINGS, run_command  # noqa: E402
from rlcache.errors import UserError  # noqa: E402

EPILOG = """\b
Examples:
  python scripts/train.py --episodes 100 --output results/test_run
  python scripts/train.py --resume results/test_run/checkpoints/latest.pt --episodes 200
  python scripts/train.py --eval-only --checkpoint results/test_run/checkpoints/best.pt
"""


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.option("--config", "-c", metavar="PATH",
              help=f"YAML config (default: configs/default.yaml; when resuming, the "
                   f"checkpoint's own config). [{DEFAULT_CONFIG.name}]")
@click.option("--episodes", "-e", type=int, metavar="INT",
              help="Override max_episodes (with --resume: the total to reach).")
@click.option("--resume", "-r", metavar="PATH",
              help="Resume from a checkpoint (file, checkpoints folder, run folder or 'auto').")
@click.option("--eval-only", is_flag=True, help="Evaluation mode only (needs --checkpoint).")
@click.option("--checkpoint", metavar="PATH", help="Model for --eval-only evaluation.")
@click.option("--output", "-o", metavar="DIR",
              help="Output directory (default: results/<env>-<timestamp>, or the "
                   "checkpoint's run folder when resuming).")
@click.option("--seed", type=int, metavar="INT", help="Random seed.")
@click.option("--wandb", is_flag=True, help="Enable Weights & Biases logging.")
@click.option("--agent-type", type=click.Choice(["dqn", "double_dqn"]), help="dqn or double_dqn.")
@click.option("--eval-episodes", type=int, metavar="INT", help="Number of eval episodes.")
def main(config: str | None, episodes: int | None, resume: str | None, eval_only: bool,
         checkpoint: str | None, output: str | None, seed: int | None, wandb: bool,
         agent_type: str | None, eval_episodes: int | None) -> None:
    """Train a DQN agent (or resume, or evaluate one) with the original flags."""
    from rlcache.cli.evaluate import format_report, run_evaluate
    from rlcache.cli.train import run_train

    if eval_only:
        if checkpoint is None:
            raise UserError("--eval-only needs --checkpoint PATH (a .pt file or run folder)")
        click.echo(format_report(run_evaluate(checkpoint, episodes=eval_episodes, seed=seed)))
        return
    if checkpoint is not None:
        raise UserError("--checkpoint is for --eval-only; to continue training use --resume")
    config_path = config if config is not None or resume is not None else DEFAULT_CONFIG
    run_train(config_path, episodes=episodes, resume=resume, output=output, seed=seed,
              wandb=wandb, agent_type=agent_type, eval_episodes=eval_episodes)


if __name__ == "__main__":
    run_command(main, prog_name="train.py")
