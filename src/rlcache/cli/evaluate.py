"""``rlcache evaluate``: greedy evaluation of a saved agent; writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rlcache.cli.common import CONTEXT_SETTINGS
from rlcache.errors import UserError

if TYPE_CHECKING:
    from rlcache.config import RunConfig
    from rlcache.training import Trainer

REPORT_KEYS = ("mean_reward", "std_reward", "min_reward", "max_reward", "episodes")
"""Keys of the ``--json`` object (contract), plus ``hit_ratio`` when the env reports one."""

ENV_REPORTS: dict[str, Callable[[RunConfig, Trainer, dict[str, Any]], dict[str, Any]]] = {}
"""Env name -> a function that turns the agent's report into the printed one (the cache
env registers one that adds the baselines on exactly the same requests)."""

EPILOG = """\b
Examples:
  rlcache evaluate --checkpoint results/run1/checkpoints/best.pt
  rlcache evaluate -k results/run1 --episodes 50 --seed 7 --json
  rlcache evaluate --checkpoint results/run1/checkpoints/latest.pt --env mock
"""


def run_evaluate(checkpoint: str | Path, *, episodes: int | None = None,
                 env: str | None = None, seed: int | None = None) -> dict[str, Any]:
    """Greedy evaluation of a checkpoint (file, checkpoints folder or run folder)."""
    if not Path(checkpoint).exists():
        raise UserError(f"{checkpoint}: checkpoint not found")
    from rlcache import builders

    loaded = builders.load_checkpoint(checkpoint)
    config = builders.checkpoint_run_config(loaded)
    if env is not None:
        config.apply({"env": {"name": env}}, "--env")
    if seed is not None:
        config.apply({"training": {"seed": seed}}, "--seed")
    if episodes is not None:
        config.apply({"training": {"eval_episodes": episodes}}, "--episodes")
    config.training.validate()
    run_dir = builders.checkpoint_run_dir(loaded.path, config.training.checkpoint_dir)
    trainer = builders.build_trainer(config, run_dir, resume=loaded)
    stats = trainer.evaluate_only()
    report: dict[str, Any] = {key: stats[key] for key in REPORT_KEYS}
    if "hit_ratio" in stats:
        report["hit_ratio"] = stats["hit_ratio"]
    extend = ENV_REPORTS.get(config.env_name)
    if extend is not None:
        report = extend(config, trainer, report)
    report_meta = {"checkpoint": str(trainer.loaded_from or loaded.path),
                   "env": config.env_name, "trained_episodes": stats.get("trained_episodes")}
    return {**report, "_meta": report_meta}


def format_report(report: dict[str, Any]) -> str:
    """Human-readable lines for a report from :func:`run_evaluate`."""
    meta = report.get("_meta", {})
    lines = [f"Checkpoint: {meta.get('checkpoint')} (trained episodes: "
             f"{meta.get('trained_episodes')})", f"Env: {meta.get('env')}"]
    if "mean_reward" in report:
        lines.append(f"Greedy evaluation over {report['episodes']} episodes: mean reward "
                     f"{report['mean_reward']:.2f} ± {report['std_reward']:.2f} "
                     f"(min {report['min_reward']:.2f}, max {report['max_reward']:.2f})")
    if "hit_ratio" in report:
        lines.append(f"Hit ratio: {report['hit_ratio']:.4f}")
    return "\n".join(lines)


def public(report: dict[str, Any]) -> dict[str, Any]:
    """The report without private keys (what ``--json`` prints)."""
    return {k: v for k, v in report.items() if not k.startswith("_")}


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.option("--checkpoint", "-k", required=True, metavar="PATH",
              help="Checkpoint file (.pt), checkpoints folder or run folder.")
@click.option("--episodes", "-e", type=int, metavar="N",
              help="Evaluation episodes (default: the run's training.eval_episodes).")
@click.option("--env", metavar="NAME",
              help="Evaluate on another env of the same observation and action sizes.")
@click.option("--seed", type=int, metavar="S",
              help="Seed; episode i is reset with seed S + 10000 + i.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: mean_reward, std_reward, min_reward, "
                   "max_reward, episodes.")
def evaluate(checkpoint: str, episodes: int | None, env: str | None, seed: int | None,
             as_json: bool) -> None:
    """Evaluate a saved agent greedily (no exploration); writes nothing."""
    report = run_evaluate(checkpoint, episodes=episodes, env=env, seed=seed)
    if as_json:
        click.echo(json.dumps(public(report)))
    else:
        click.echo(format_report(report))
