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
from rlcache.cli.options import SEED, trace_options
from rlcache.errors import UserError

REPORT_KEYS = ("mean_reward", "std_reward", "min_reward", "max_reward", "episodes")
"""Keys of the ``--json`` object for episodic envs (contract), plus ``hit_ratio``."""

TRACE_OPTIONS = ("trace", "format", "id_col", "size_col", "workload", "requests", "objects",
                 "cache_size", "split")
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
        kwargs.pop("mix_episodes", None)
    elif kwargs.get("mix_episodes") and kwargs.get("mix"):
        # One part per training episode: there is no single training trace to replay (and
        # the parts' trace paths are those of the machine it was trained on).
        raise UserError(f"the agent trained on {len(kwargs['mix'])} env.mix parts, one per "
                        "episode: give --trace FILE or --workload NAME to judge it on")
    if "trace" in given:
        kwargs.pop("workload", None)
    if "workload" in given:
        for key in ("trace", "format", "id_col", "size_col", "split"):
            kwargs.pop(key, None)
    kwargs.update(given)
    if seed is not None:
        kwargs["seed"] = seed
    return kwargs


GENERATOR_KEYS = ("workload", "requests", "objects", "alpha", "workload_kwargs", "seed", "mix")
"""Cache-env keys that decide which requests a generated trace holds."""


def seen_note(trained: dict[str, Any], judged: dict[str, Any]) -> str:
    """Whether the agent trained on the requests it is judged on, in words ('' if unseen)."""
    from rlcache.envs.cache_env import CacheEnvConfig

    defaults = CacheEnvConfig()
    if judged.get("trace") is not None or trained.get("trace") is not None:
        same = trained.get("trace") == judged.get("trace")
    else:
        same = all(trained.get(k, getattr(defaults, k)) == judged.get(k, getattr(defaults, k))
                   for k in GENERATOR_KEYS)
    if not same:
        return ""
    was, now = trained.get("split"), judged.get("split")
    if was is None and trained.get("validation"):
        return ("; the agent trained on this trace less its held-out end (env.validation): "
                "most of these requests are not unseen")
    if was is None:
        return "; the agent trained on this whole trace: these requests are not unseen"
    if now is None or now == was:
        return f"; the agent trained on the {was} half of these requests"
    return f"; unseen: the agent trained on the {was} half"


def cache_report(config: Any, agent_state: dict[str, Any], seed: int | None,
                 trace_opts: dict[str, Any]) -> dict[str, Any]:
    """The agent's hit ratio on a whole trace beside the baselines on the same requests."""
    from rlcache.evaluation import greedy_agent, scorer_layers

    layers = scorer_layers(agent_state)
    # The layers run compiled where the engine supports the env config; the torch agent
    # is the reference replay's fallback (opt-in feature sets and candidate sources).
    select = greedy_agent(agent_state).select_action
    return _trace_report(config.env_kwargs, select, seed, trace_opts, layers=layers)


def _trace_report(env_kwargs: dict[str, Any], select: Any, seed: int | None,
                  trace_opts: dict[str, Any], layers: Any = None) -> dict[str, Any]:
    """``select``: an agent's obs -> action (``layers``: its scorer, run compiled), or a
    policy file's Policy (replayed by the serving engine, so the hits are LearnedCache's
    and the libCacheSim plugin's)."""
    from rlcache.envs.cache_env import CacheEnvConfig
    from rlcache.policy import Policy

    kwargs = _cache_env_kwargs(env_kwargs, seed, trace_opts)
    env_config = CacheEnvConfig.from_kwargs(**{k: v for k, v in kwargs.items() if k != "name"})
    trace = env_config.load_trace()  # read once: the capacity and the replay share it
    capacity = env_config.capacity_for(trace)
    if isinstance(select, Policy):
        from rlcache.serve.replay import policy_table

        table = policy_table(select, kwargs, trace=trace)
    else:
        from rlcache.evaluation import trace_report

        table = trace_report(env_config, layers=layers, select=select, trace=trace)
    source = kwargs.get("trace") or (f"mix of {len(kwargs['mix'])} parts" if kwargs.get("mix")
                                     else f"workload {kwargs.get('workload', 'zipf')}")
    title = (f"{source} (seed {kwargs.get('seed', 0)}"
             + (f", split {kwargs['split']}" if kwargs.get("split") else "")
             + f"), cache size {kwargs.get('cache_size', env_config.cache_size)} = "
             f"{capacity} objects of {trace.n_objects} distinct"
             + seen_note(env_kwargs, kwargs))
    return {**table, "_title": title}


def _check_cache_dims(path: Path, dims: tuple[int, int], env_kwargs: dict[str, Any]) -> None:
    """The checkpoint's sizes against the cache env's, without building the env."""
    from rlcache.envs.cache_env import CacheEnvConfig

    need = CacheEnvConfig.from_kwargs(
        **{k: v for k, v in env_kwargs.items() if k != "name"}).observation_dims
    for label, saved, wanted in zip(("observation", "action"), dims, need, strict=True):
        if saved != wanted:
            raise UserError(f"{path}: checkpoint {label} size {saved} does not match "
                            f"env cache ({label} size {wanted})")


def _twin(checkpoint: str | Path) -> tuple[Path, str, Any, Any] | None:
    """The chosen checkpoint's torch-free twin (``training.policy_twin``) as ``(pt, why,
    policy, run config)`` when the compiled engine replays its scorer, else None."""
    from rlcache import runs
    from rlcache.cache.state import SOURCES
    from rlcache.training.policy_twin import evaluation_twin

    found = evaluation_twin(checkpoint)
    if found is None:
        return None
    pt, why, policy = found
    config = runs.embedded_run_config(policy.meta["training"]["run_config"], pt)
    decisions = policy.decisions
    if (config.env_name != "cache" or decisions["features"] not in ("basic", "extended",
                                                                    "history")
            or not set(decisions["candidates"]) <= set(SOURCES)):
        return None
    return pt, why, policy, config


def _episodes_report(loaded: Any, config: Any) -> dict[str, Any]:
    """Greedy episodes on the run's env with the Trainer's evaluation seeds."""
    from rlcache import builders
    from rlcache.evaluation import episode_stats, greedy_agent, run_episodes
    from rlcache.training import rng
    from rlcache.training.trainer import EVAL_SEED_OFFSET

    train_seed = config.training.seed
    env = builders.build_env(config, None if train_seed is None else train_seed + EVAL_SEED_OFFSET)
    try:
        builders.check_checkpoint_matches(loaded, env, config.env_name)
        agent = greedy_agent(loaded.payload["agent"])
        first = (train_seed if train_seed is not None else 0) + EVAL_SEED_OFFSET
        seeds = [first + i for i in range(config.training.eval_episodes)]
        with rng.preserved_global_rng():
            # the RNG state training stopped in, as a resumed Trainer would evaluate
            rng.restore_global(loaded.payload["rng"]["global"])
            results = run_episodes(env, agent.select_action, seeds,
                                   config.training.max_steps_per_episode)
    finally:
        env.close()
    stats = episode_stats(results)
    report: dict[str, Any] = {key: stats[key] for key in REPORT_KEYS}
    if "hit_ratio" in stats:
        report["hit_ratio"] = stats["hit_ratio"]
    return report


def run_evaluate(checkpoint: str | Path, *, episodes: int | None = None,
                 env: str | None = None, seed: int | None = None,
                 trace_opts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Greedy evaluation of a checkpoint (file, checkpoints folder or run folder).

    No Trainer: the cache env replays through :mod:`rlcache.evaluation` (no env, no
    optimizer); any other env runs greedy episodes on one evaluation env.
    """
    from rlcache import runs

    # A cache agent's best/latest has a twin: the same weights, read with numpy only.
    twin = _twin(checkpoint) if env is None else None
    if twin is not None:
        path, why, policy, config = twin
        trained = int(policy.meta["training"]["episode"])
    else:
        loaded, why = runs.choose_for_evaluation(checkpoint)
        config = runs.checkpoint_run_config(loaded)
        path, trained = loaded.path, int(loaded.payload["trainer"]["episode"])
    if env is not None:
        config.apply({"env": {"name": env}}, "--env")
    runs.check_env_name(config)
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
    meta = {"checkpoint": str(path), "env": config.env_name, "trained_episodes": trained,
            "chosen": why}
    if twin is not None:
        network = policy.meta["network"]
        _check_cache_dims(path, (network["state_dim"], network["action_dim"]),
                          config.env_kwargs)
        return {**_trace_report(config.env_kwargs, None, seed, trace_opts,
                                layers=policy.network.layers), "_meta": meta}
    if is_cache:
        from rlcache.builders import checkpoint_dims

        _check_cache_dims(path, checkpoint_dims(loaded.payload), config.env_kwargs)
        return {**cache_report(config, loaded.payload["agent"], seed, trace_opts),
                "_meta": meta}
    return {**_episodes_report(loaded, config), "_meta": meta}


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
    lines = [f"{what}: {meta.get('policy', meta.get('checkpoint'))} ("
             + (f"{meta['chosen']}; " if meta.get("chosen") else "")
             + f"trained episodes: {meta.get('trained_episodes')})", f"Env: {meta.get('env')}"]
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
              help="Checkpoint file (.pt), or a run or checkpoints folder: its best.pt "
                   "(else its newest intact checkpoint). The file used is printed.")
@click.option("--policy", "-p", metavar="POLICY|pretrained",
              help="Instead of a checkpoint: a policy file from `rlcache export` (numpy only), "
                   "or `pretrained`, the one shipped with rlcache.")
@click.option("--episodes", "-e", type=int, metavar="N",
              help="Evaluation episodes (default: the run's training.eval_episodes).")
@click.option("--env", metavar="NAME",
              help="Evaluate on another env of the same observation and action sizes.")
@click.option("--seed", type=SEED, metavar="S",
              help="Seed; episode i is reset with seed S + 10000 + i. For the cache env: "
                   "the seed of the generated trace (another seed = an unseen trace).")
@trace_options
@click.option("--workload", metavar="NAME",
              help="Cache env: generate zipf, zipf_scan, loop, shift, churn or phased.")
@click.option("--requests", type=int, metavar="N", help="Cache env: generated requests.")
@click.option("--objects", type=int, metavar="M", help="Cache env: generated objects.")
@click.option("--cache-size", metavar="N|FRACTION",
              help="Cache env: capacity in objects or a fraction of the distinct objects.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: mean_reward, std_reward, min_reward, max_reward, "
                   "episodes; for the cache env {\"agent\": row, \"LRU\": row, ...} with rows "
                   "{hits, requests, hit_ratio, miss_ratio, gap_share}.")
def evaluate(checkpoint: str | None, policy: str | None, episodes: int | None,
             env: str | None, seed: int | None, trace: str | None, fmt: str | None,
             id_col: int | str | None, size_col: int | str | None, split: str | None,
             workload: str | None, requests: int | None, objects: int | None,
             cache_size: str | None, as_json: bool) -> None:
    """Evaluate a saved agent greedily (no exploration); writes nothing."""
    trace_opts = {"trace": trace, "format": fmt, "id_col": id_col, "size_col": size_col,
                  "workload": workload, "requests": requests,
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
