"""``rlcache evaluate``: greedy evaluation of a saved agent; writes nothing.

For the cache env the agent replays a whole trace (the training one, or another given
by the trace options) and is printed beside LRU, LFU, FIFO, ARC, LRFU and Belady on exactly
the same requests; for every other env it plays greedy episodes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rlcache.cli.common import CONTEXT_SETTINGS
from rlcache.errors import UserError

REPORT_KEYS = ("mean_reward", "std_reward", "min_reward", "max_reward", "episodes")
"""Keys of the ``--json`` object for episodic envs (contract), plus ``hit_ratio``."""

TRACE_OPTIONS = ("trace", "format", "workload", "requests", "objects", "cache_size", "split")
"""Cache-env keys that ``rlcache evaluate`` may change to judge on another trace."""

EPILOG = """\b
Examples:
  rlcache evaluate --checkpoint results/run1/checkpoints/best.pt
  rlcache evaluate -k results/run1 --episodes 50 --seed 7 --json
  rlcache evaluate -k results/cache1 --seed 1            # cache env: an unseen trace
  rlcache evaluate -k results/cache1 --workload loop --objects 1200 --cache-size 1000
  rlcache evaluate -k results/cache2 --split test --json # second half of a trace file
  rlcache evaluate --policy pretrained --trace t.oracleGeneral --cache-size 0.01
"""


def _cache_env_kwargs(env_kwargs: dict[str, Any], seed: int | None,
                      trace_opts: dict[str, Any]) -> dict[str, Any]:
    """The training env section with the evaluation's trace options applied."""
    kwargs = dict(env_kwargs)
    given = {k: v for k, v in trace_opts.items() if v is not None}
    if "trace" in given or "workload" in given:
        kwargs.pop("mix", None)
    if "trace" in given:
        kwargs.pop("workload", None)
    if "workload" in given:
        kwargs.pop("trace", None)
        kwargs.pop("format", None)
        kwargs.pop("split", None)
    kwargs.update(given)
    if seed is not None:
        kwargs["seed"] = seed
    return kwargs


def cache_report(config: Any, agent: Any, seed: int | None,
                 trace_opts: dict[str, Any]) -> dict[str, Any]:
    """The agent's hit ratio on a whole trace beside the baselines on the same requests."""
    return _trace_report(config.env_kwargs, lambda obs: agent.select_action(obs, evaluate=True),
                         seed, trace_opts)


def _trace_report(env_kwargs: dict[str, Any], select: Any, seed: int | None,
                  trace_opts: dict[str, Any]) -> dict[str, Any]:
    """``select``: an agent's obs -> action, or a policy file's Policy (replayed by the
    serving engine, so the hits are LearnedCache's and the libCacheSim plugin's)."""
    from rlcache.envs.cache_env import evaluate_on_trace
    from rlcache.policy import Policy

    kwargs = _cache_env_kwargs(env_kwargs, seed, trace_opts)
    if isinstance(select, Policy):
        from rlcache.serve.replay import policy_table

        table = policy_table(select, kwargs)
    else:
        table = evaluate_on_trace(select, kwargs)
    source = kwargs.get("trace") or f"workload {kwargs.get('workload', 'zipf')}"
    title = (f"{source} (seed {kwargs.get('seed', 0)}"
             + (f", split {kwargs['split']}" if kwargs.get("split") else "")
             + f"), cache size {kwargs.get('cache_size')}")
    return {**table, "_title": title}


def run_evaluate(checkpoint: str | Path, *, episodes: int | None = None,
                 env: str | None = None, seed: int | None = None,
                 trace_opts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Greedy evaluation of a checkpoint (file, checkpoints folder or run folder)."""
    if not Path(checkpoint).exists():
        raise UserError(f"{checkpoint}: checkpoint not found")
    from rlcache import builders

    loaded = builders.load_checkpoint(checkpoint)
    config = builders.checkpoint_run_config(loaded)
    if env is not None:
        config.apply({"env": {"name": env}}, "--env")
    trace_opts = {k: v for k, v in (trace_opts or {}).items() if v is not None}
    is_cache = config.env_name == "cache"
    if trace_opts and not is_cache:
        raise UserError(f"--{next(iter(trace_opts)).replace('_', '-')}: trace options apply "
                        f"to cache-env checkpoints; this one trained on {config.env_name!r}")
    if seed is not None and not is_cache:
        config.apply({"training": {"seed": seed}}, "--seed")
    if episodes is not None:
        config.apply({"training": {"eval_episodes": episodes}}, "--episodes")
    config.training.validate()
    run_dir = builders.checkpoint_run_dir(loaded.path, config.training.checkpoint_dir)
    trainer = builders.build_trainer(config, run_dir, resume=loaded)
    meta = {"checkpoint": str(trainer.loaded_from or loaded.path), "env": config.env_name,
            "trained_episodes": trainer.episode}
    if is_cache:
        return {**cache_report(config, trainer.agent, seed, trace_opts), "_meta": meta}
    stats = trainer.evaluate_only()
    report: dict[str, Any] = {key: stats[key] for key in REPORT_KEYS}
    if "hit_ratio" in stats:
        report["hit_ratio"] = stats["hit_ratio"]
    return {**report, "_meta": meta}


def run_evaluate_policy(policy: str, *, seed: int | None = None,
                        trace_opts: dict[str, Any] | None = None) -> dict[str, Any]:
    """A policy file (or ``pretrained``) replaying its training trace or another one."""
    from rlcache.policy import load_policy, resolve_policy

    loaded = load_policy(resolve_policy(policy))
    trace_opts = {k: v for k, v in (trace_opts or {}).items() if v is not None}
    meta = {"policy": loaded.path, "env": "cache",
            "trained_episodes": loaded.meta.get("training", {}).get("episode")}
    return {**_trace_report(loaded.env, loaded, seed, trace_opts), "_meta": meta}


def format_report(report: dict[str, Any]) -> str:
    """Human-readable lines for a report from :func:`run_evaluate`."""
    meta = report.get("_meta", {})
    what = "Policy" if "policy" in meta else "Checkpoint"
    lines = [f"{what}: {meta.get('policy', meta.get('checkpoint'))} (trained episodes: "
             f"{meta.get('trained_episodes')})", f"Env: {meta.get('env')}"]
    if "agent" in report:
        from rlcache.cache.report import format_table

        lines.append(format_table(public(report), title=report.get("_title")))
        return "\n".join(lines)
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
@click.option("--checkpoint", "-k", metavar="PATH",
              help="Checkpoint file (.pt), checkpoints folder or run folder.")
@click.option("--policy", "-p", metavar="POLICY|pretrained",
              help="Instead of a checkpoint: a policy file from `rlcache export` (numpy only), "
                   "or `pretrained`, the one shipped with rlcache.")
@click.option("--episodes", "-e", type=int, metavar="N",
              help="Evaluation episodes (default: the run's training.eval_episodes).")
@click.option("--env", metavar="NAME",
              help="Evaluate on another env of the same observation and action sizes.")
@click.option("--seed", type=int, metavar="S",
              help="Seed; episode i is reset with seed S + 10000 + i. For the cache env: "
                   "the seed of the generated trace (another seed = an unseen trace).")
@click.option("--trace", metavar="PATH", help="Cache env: replay this trace file.")
@click.option("--format", "fmt", type=click.Choice(["csv", "txt", "oracleGeneral"]),
              help="Cache env: format of --trace (default: from the extension).")
@click.option("--workload", metavar="NAME",
              help="Cache env: generate zipf, zipf_scan, loop, shift, churn or phased.")
@click.option("--requests", type=int, metavar="N", help="Cache env: generated requests.")
@click.option("--objects", type=int, metavar="M", help="Cache env: generated objects.")
@click.option("--cache-size", metavar="N|FRACTION",
              help="Cache env: capacity in objects or a fraction of the distinct objects.")
@click.option("--split", type=click.Choice(["train", "test"]),
              help="Cache env: first (train) or second (test) half of a trace file.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: mean_reward, std_reward, min_reward, max_reward, "
                   "episodes; for the cache env {\"agent\": row, \"LRU\": row, ...} with rows "
                   "{hits, requests, hit_ratio, miss_ratio, gap_share}.")
def evaluate(checkpoint: str | None, policy: str | None, episodes: int | None,
             env: str | None, seed: int | None, trace: str | None, fmt: str | None,
             workload: str | None, requests: int | None, objects: int | None,
             cache_size: str | None, split: str | None, as_json: bool) -> None:
    """Evaluate a saved agent greedily (no exploration); writes nothing."""
    trace_opts = {"trace": trace, "format": fmt, "workload": workload, "requests": requests,
                  "objects": objects, "cache_size": cache_size, "split": split}
    if (checkpoint is None) == (policy is None):
        raise click.UsageError("give one of --checkpoint and --policy")
    if policy is not None:
        if episodes is not None or env is not None:
            raise click.UsageError(f"--{'episodes' if episodes is not None else 'env'} "
                                   "applies to --checkpoint, not --policy")
        report = run_evaluate_policy(policy, seed=seed, trace_opts=trace_opts)
    else:
        report = run_evaluate(checkpoint, episodes=episodes, env=env, seed=seed,
                              trace_opts=trace_opts)
    click.echo(json.dumps(public(report)) if as_json else format_report(report))
