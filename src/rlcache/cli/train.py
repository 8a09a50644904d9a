"""``rlcache train``: resolve the run config, build the run, train (or resume) it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from rlcache.cli.common import CONTEXT_SETTINGS, echo
from rlcache.cli.options import trace_options
from rlcache.errors import UserError

FLAG_NAMES = {
    "env.name": "--env",
    "training.max_episodes": "--episodes",
    "training.max_total_steps": "--steps",
    "training.seed": "--seed",
    "training.use_wandb": "--wandb",
    "training.use_tensorboard": "--tensorboard",
    "rl.agent_type": "--agent-type",
    "training.eval_episodes": "--eval-episodes",
    "training.verbose": "--quiet",
    "env.trace": "--trace",
    "env.format": "--format",
    "env.id_col": "--id-col",
    "env.size_col": "--size-col",
    "env.split": "--split",
    "env.workload": "--workload",
    "env.cache_size": "--cache-size",
}
"""Dedicated flags and the config key each one sets (the top layer of precedence)."""

EPILOG = """\b
Precedence: defaults < checkpoint config (when resuming) < --config YAML
< --set KEY=VALUE < dedicated flags (--episodes, --seed, ...).

\b
Examples:
  rlcache train --config configs/default.yaml --output results/run1
  rlcache train -c configs/cartpole.yaml --set rl.learning_rate=1e-3 --seed 1
  rlcache train --env CartPole-v1 --steps 20000 --set training.eval_frequency=10
  rlcache train --resume results/run1/checkpoints/latest.pt --episodes 200
  rlcache train -c configs/default.yaml -o results/run1 --resume auto
  rlcache train -c configs/mock.yaml --dry-run
  rlcache train -c configs/cache.yaml --workload phased --cache-size 0.01 -o results/c1
  rlcache train -c configs/cache.yaml --trace traces/web.csv --id-col key --split train
"""


def run_train(
    config_path: str | Path | None = None,
    *,
    env: str | None = None,
    episodes: int | None = None,
    steps: int | None = None,
    resume: str | Path | None = None,
    output: str | Path | None = None,
    seed: int | None = None,
    wandb: bool = False,
    tensorboard: bool = False,
    agent_type: str | None = None,
    eval_episodes: int | None = None,
    sets: Sequence[str] = (),
    trace: str | None = None,
    fmt: str | None = None,
    id_col: int | str | None = None,
    size_col: int | str | None = None,
    split: str | None = None,
    workload: str | None = None,
    cache_size: str | None = None,
    dry_run: bool = False,
    quiet: bool = False,
) -> dict[str, Any] | None:
    """Train (or resume) a run as ``rlcache train`` does; returns the final statistics."""
    from rlcache import runs

    trace_flags = {"env.trace": trace, "env.format": fmt, "env.id_col": id_col,
                   "env.size_col": size_col, "env.split": split, "env.workload": workload,
                   "env.cache_size": cache_size}
    if trace is not None and workload is not None:
        raise UserError("give at most one of --trace PATH and --workload NAME")
    flags = {
        # the trace flags only make sense for the cache env
        "env.name": env if env is not None or all(v is None for v in trace_flags.values())
        else "cache",
        "training.max_episodes": episodes,
        "training.max_total_steps": steps,
        "training.seed": seed,
        "training.use_wandb": True if wandb else None,
        "training.use_tensorboard": True if tensorboard else None,
        "rl.agent_type": agent_type,
        "training.eval_episodes": eval_episodes,
        "training.verbose": False if quiet else None,
        **trace_flags,
    }
    resume_str = None if resume is None else str(resume)

    def plan(out_dir: Path | None) -> runs.RunPlan:
        return runs.plan_run(config_path, sets, flags, resume_str, out_dir, FLAG_NAMES)

    first = plan(runs.output_path(output))
    if dry_run:
        _dry_run(first)
        return None
    with runs.writing(first, plan) as chosen:
        stats = _train_chosen(chosen, quiet)
    _print_summary(stats, chosen.out_dir, quiet)
    return stats


def _train_chosen(chosen: Any, quiet: bool) -> dict[str, Any] | None:
    """Train the run ``runs.writing`` chose (its folder locked); None if nothing is left."""
    from rlcache import builders, runs

    config, loaded, out_dir = chosen.config, chosen.loaded, chosen.out_dir
    if loaded is not None and _nothing_to_train(loaded, config, out_dir, quiet):
        return None
    if loaded is not None:
        echo(f"Resuming {loaded.path} at episode {runs.episodes_done(loaded)} -> "
             f"{config.training.max_episodes} in {out_dir}", quiet)
    else:
        echo(f"Training {config.env_name} for {config.training.max_episodes} episodes "
             f"in {out_dir}", quiet)
    trainer = builders.build_trainer(config, out_dir, resume=loaded)
    if chosen.base is not None:
        runs.check_identity(chosen.base, config, FLAG_NAMES)
    _echo_capacity(trainer.env, config.env, quiet)
    return trainer.train()


def _dry_run(first: Any) -> None:
    """Check the run could be built (no trace read, nothing written); print its config."""
    from rlcache import builders

    builders.check_buildable(first.config)
    click.echo(f"# rlcache train --dry-run: resolved config (output folder {first.out_dir}"
               + (f", resuming {first.loaded.path}" if first.loaded is not None else "")
               + ")")
    click.echo(first.config.to_yaml(), nl=False)


def _nothing_to_train(loaded: Any, config: Any, out_dir: Path, quiet: bool) -> bool:
    """True (and said) when the checkpoint's run is already finished for this config."""
    from rlcache import runs
    from rlcache.training.checkpoint import finish_interrupted_saves

    finished = runs.finished_reason(loaded, config)
    if not finished:
        return False
    # The last save may have been cut between its two renames: finish it here too,
    # since no trainer will run in this folder to do it.
    ckpt_dir = config.training.checkpoint_dir
    if runs.checkpoint_run_dir(loaded.path, ckpt_dir).resolve() == out_dir.resolve():
        finish_interrupted_saves(out_dir / ckpt_dir)
    echo(f"{loaded.path}: {finished}; nothing to train", quiet)
    return True


def _echo_capacity(env: Any, env_config: dict[str, Any], quiet: bool) -> None:
    """The cache env's capacity in objects, and which part of the trace a fraction used."""
    inner = getattr(env, "unwrapped", env)
    capacity, trace = getattr(inner, "capacity", None), getattr(inner, "trace", None)
    if capacity is None or trace is None:
        return
    split = env_config.get("split")
    part = f"the {split} half of the trace" if split else "the trace"
    if env_config.get("validation"):
        part += " less its held-out end"
    sizes = (f"; env.cache_sizes {env_config['cache_sizes']} drawn per episode"
             if env_config.get("cache_sizes") else "")
    given = getattr(getattr(inner, "config", None), "cache_size", capacity)
    echo(f"Cache size {given} = {capacity} objects "
         f"(of the {trace.n_objects} distinct objects in {part}){sizes}", quiet)


def _print_summary(stats: dict[str, Any] | None, out_dir: Path, quiet: bool) -> None:
    if quiet or not stats:
        return
    parts = []
    for key, label in (("total_episodes", "episodes"), ("total_steps", "steps"),
                       ("best_eval_reward", "best eval reward"),
                       ("elapsed_seconds", "seconds"), ("stopped_early", "stopped early")):
        value = stats.get(key)
        if value is not None:
            parts.append(f"{label} {value:.2f}" if isinstance(value, float) else
                         f"{label} {value}")
    click.echo("Done: " + ", ".join(parts))
    click.echo(f"Run folder: {out_dir}")


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.option("--config", "-c", "config_path", metavar="PATH",
              help="YAML config with training:, rl: and env: sections.")
@click.option("--env", metavar="NAME", help="Environment: mock, cache or a Gymnasium id "
              "(e.g. CartPole-v1). Sets env.name.")
@click.option("--episodes", "-e", type=int, metavar="INT",
              help="Training episodes in total (with --resume: the total to reach). "
                   "Sets training.max_episodes.")
@click.option("--steps", type=int, metavar="INT",
              help="Step budget over the whole run. Sets training.max_total_steps.")
@click.option("--resume", "-r", metavar="PATH|auto",
              help="Continue from a checkpoint file, checkpoints folder or run folder; "
                   "'auto': the newest intact checkpoint in --output, or a fresh start.")
@click.option("--output", "-o", metavar="DIR",
              help="Run folder (default: results/<env>-<timestamp>; with --resume PATH "
                   "the checkpoint's run folder).")
@click.option("--seed", type=int, metavar="INT", help="Random seed. Sets training.seed.")
@click.option("--wandb", is_flag=True, help="Log to Weights & Biases (training.use_wandb).")
@click.option("--tensorboard", is_flag=True,
              help="Write TensorBoard scalars (training.use_tensorboard).")
@click.option("--agent-type", type=click.Choice(["dqn", "double_dqn"]),
              help="dqn or double_dqn. Sets rl.agent_type.")
@click.option("--eval-episodes", type=int, metavar="INT",
              help="Episodes per evaluation. Sets training.eval_episodes.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set rl.learning_rate=1e-3 "
                   "(repeatable; dotted keys, value parsed as YAML).")
@trace_options
@click.option("--workload", metavar="NAME", help="Cache env: built-in workload zipf, zipf_scan, "
              "loop, shift, churn or phased (sets env.workload).")
@click.option("--cache-size", metavar="N|FRACTION", help="Cache env: capacity in objects or a "
              "fraction of the distinct objects of the part trained on (the --split half, "
              "else the whole trace); sets env.cache_size.")
@click.option("--dry-run", is_flag=True, help="Print the resolved config and exit.")
@click.option("--quiet", "-q", is_flag=True,
              help="Only warnings and errors on the console (training.verbose false).")
def train(config_path: str | None, env: str | None, episodes: int | None, steps: int | None,
          resume: str | None, output: str | None, seed: int | None, wandb: bool,
          tensorboard: bool, agent_type: str | None, eval_episodes: int | None,
          sets: tuple[str, ...], trace: str | None, fmt: str | None,
          id_col: int | str | None, size_col: int | str | None, split: str | None,
          workload: str | None, cache_size: str | None, dry_run: bool, quiet: bool) -> None:
    """Train a DQN agent (or resume a run) and write its run folder.

    The config has three sections: training (TrainingConfig: max_episodes,
    max_total_steps, eval_frequency, eval_episodes, checkpoint_frequency, early_stopping,
    patience, min_episodes, seed, ...), rl (the agent: agent_type, learning_rate, gamma
    (alias discount), batch_size, buffer_size, learning_starts, train_freq,
    gradient_steps, target_update_interval, tau, epsilon_start, epsilon_end,
    exploration_steps or exploration_fraction, hidden_sizes, double_q, dueling, network,
    device, ...) and env (name, plus the env's own arguments). --dry-run lists every key
    with its resolved value.

    The run folder holds checkpoints/, logs/training.log, metrics.json,
    training_curves.png and config.yaml. A folder that already holds a run is only
    written to with --resume.
    """
    run_train(config_path, env=env, episodes=episodes, steps=steps, resume=resume,
              output=output, seed=seed, wandb=wandb, tensorboard=tensorboard,
              agent_type=agent_type, eval_episodes=eval_episodes, sets=sets,
              trace=trace, fmt=fmt, id_col=id_col, size_col=size_col, split=split,
              workload=workload, cache_size=cache_size,
              dry_run=dry_run, quiet=quiet)
