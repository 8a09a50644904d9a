"""Run a sweep on Ray Tune: local Ray in-process by default, a cluster by address.

Output folder layout::

    OUTPUT/sweep.yaml          the resolved sweep (base config + search + scheduler)
    OUTPUT/sweep_state.json    samples, seeds, concurrency: what --resume reuses
    OUTPUT/tune/               Tune's experiment (state, per-trial results, checkpoints)
    OUTPUT/runs/<trial>/       each trial's rlcache run folder (checkpoints, metrics, logs)
    OUTPUT/results.csv         one line per trial, best first
    OUTPUT/best_config.yaml    the winner as a plain run config (rlcache train --config)
    OUTPUT/curves.png          every trial's evaluation curve
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlcache import cluster, testing_hooks
from rlcache.config import RunConfig, load_run_config, read_yaml
from rlcache.errors import UserError
from rlcache.runs import output_path
from rlcache.serialization import atomic_write_text
from rlcache.sweep import report
from rlcache.sweep.scheduler import SchedulerSpec, parse_scheduler
from rlcache.sweep.space import SEED_KEY, param_space, parse_search

EXTRA_SECTIONS = ("search", "scheduler")
EXPERIMENT = "tune"

logger = logging.getLogger("rlcache")


@dataclass
class SweepOptions:
    """What ``rlcache sweep`` was asked to do."""

    config_path: str | None = None
    sets: Sequence[str] = ()
    samples: int = 1
    seeds: int | None = None
    address: str | None = None
    output: str | Path | None = None
    resume: bool = False
    max_concurrent: int | None = None
    max_failures: int = 3
    num_cpus: int | None = None
    quiet: bool = False


@dataclass
class SweepResult:
    """The outcome: where things are, the winner, and whether the sweep was interrupted."""

    output: Path
    metric: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    best_config: Path | None = None
    results_csv: Path | None = None
    plot: Path | None = None
    table: str = ""
    interrupted: bool = False


# --------------------------------------------------------------------------- preparing


def _positive(value: int | None, flag: str) -> None:
    if value is not None and (isinstance(value, bool) or value <= 0):
        raise UserError(f"{flag}: expected a positive integer, got {value!r}")


def _default_output() -> Path:
    from rlcache.runs import default_output_dir

    return default_output_dir("sweep")


def prepare(opts: SweepOptions) -> tuple[RunConfig, dict[str, Any], Path]:
    """Resolve (or, for --resume, reload) the sweep config and its settings; check outputs."""
    for value, flag in ((opts.samples, "--samples"), (opts.seeds, "--seeds"),
                        (opts.max_concurrent, "--max-concurrent"), (opts.num_cpus, "--num-cpus")):
        _positive(value, flag)
    if opts.max_failures < 0:
        raise UserError(f"--max-failures: expected an integer >= 0, got {opts.max_failures}")
    if opts.resume:
        output_path(opts.output)  # an empty --output is refused, not the current folder
        if opts.output is None:
            raise UserError("--resume: needs --output DIR, the folder of the sweep to resume")
        out = Path(opts.output)
        if not (out / "sweep.yaml").exists() or not (out / "sweep_state.json").exists():
            raise UserError(f"--output {out}: no sweep to resume here (sweep.yaml and "
                            f"sweep_state.json missing)")
        config = RunConfig.from_dict(read_yaml(out / "sweep.yaml"), str(out / "sweep.yaml"),
                                     EXTRA_SECTIONS).validate()
        state = json.loads((out / "sweep_state.json").read_text())
        return config, state, out
    if opts.config_path is None:
        raise UserError("--config: a sweep file is required (a run config plus search: and "
                        "scheduler:), e.g. configs/sweep_mock.yaml")
    config = load_run_config(opts.config_path, list(opts.sets), extra_sections=EXTRA_SECTIONS)
    out = output_path(opts.output) or _default_output()
    if out.exists() and not out.is_dir():
        raise UserError(f"--output {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise UserError(f"--output {out}: folder is not empty; resume its sweep with --resume "
                        f"or choose another --output")
    search = parse_search(config.extra.get("search"), config)
    parse_scheduler(config.extra.get("scheduler"), config)
    if not search and not opts.seeds:
        raise UserError(f"{opts.config_path}: nothing to sweep: add a search: section or "
                        f"pass --seeds K")
    state = {"samples": opts.samples, "seeds": opts.seeds,
             "max_concurrent": opts.max_concurrent, "max_failures": opts.max_failures}
    return config, state, out


def seed_list(config: RunConfig, count: int | None) -> list[int] | None:
    """``count`` consecutive seeds from training.seed (0 when unset)."""
    if not count:
        return None
    start = config.training.seed if config.training.seed is not None else 0
    return [start + i for i in range(count)]


# --------------------------------------------------------------------------- ray


def init_ray(address: str | None, num_cpus: int | None, quiet: bool) -> bool:
    """``cluster.init_ray``, with Tune's checkpoint-sync warning off; True if started here."""
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    return cluster.init_ray(address, num_cpus, quiet)


class _Watch:
    """Tune callback factory (Ray is imported lazily)."""

    @staticmethod
    def make() -> Any:
        """A callback that interrupts the driver after N trials end (a test hook)."""
        from ray import tune

        class InterruptAfter(tune.Callback):
            """Send this process SIGINT (Tune stops and saves its state) after N trials."""

            def __init__(self) -> None:
                self.ended = 0

            def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any,
                                  **info: Any) -> None:
                self.ended += 1
                limit = testing_hooks.sweep_interrupt_after()
                if limit and self.ended == limit:
                    os.kill(os.getpid(), signal.SIGINT)

        return InterruptAfter()


def _tuner(config: RunConfig, state: dict[str, Any], out: Path, spec: SchedulerSpec,
           quiet: bool) -> Any:
    """A new Tuner, or the restored one when ``out/tune`` holds an experiment."""
    from ray import tune

    from rlcache.sweep.trainable import run_trial

    base = config.copy()
    base.extra = {}
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, base=base.to_dict(), runs_root=str(out / "runs")),
        {"cpu": 1})
    experiment = out / EXPERIMENT
    if experiment.exists():
        if not tune.Tuner.can_restore(str(experiment)):
            raise UserError(f"{experiment}: holds no Tune experiment state to resume")
        return tune.Tuner.restore(str(experiment), trainable=trainable,
                                  resume_unfinished=True, resume_errored=True)
    search = parse_search(config.extra.get("search"), config)
    seeds = seed_list(config, state.get("seeds"))
    samples = int(state.get("samples") or 1)
    space = param_space(search, seeds, samples, rng_seed=config.training.seed or 0)
    random_in_tune = any(not isinstance(v, dict) or "grid_search" not in v
                         for v in space.values())
    num_samples = samples if random_in_tune or not seeds else 1
    state["trials"] = num_samples * math.prod(
        len(v["grid_search"]) for v in space.values()
        if isinstance(v, dict) and "grid_search" in v)
    atomic_write_text(out / "sweep_state.json", json.dumps(state, indent=1) + "\n")
    tune_config = tune.TuneConfig(
        metric=spec.metric, mode="max", scheduler=spec.build(), num_samples=num_samples,
        max_concurrent_trials=state.get("max_concurrent"))
    run_config = tune.RunConfig(
        name=EXPERIMENT, storage_path=str(out.resolve()),
        failure_config=tune.FailureConfig(max_failures=int(state.get("max_failures", 3))),
        checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
        callbacks=[_Watch.make()], verbose=0 if quiet else 1)
    return tune.Tuner(trainable, param_space=space, tune_config=tune_config,
                      run_config=run_config)


# --------------------------------------------------------------------------- main


def run_sweep(opts: SweepOptions) -> SweepResult:
    """Run (or resume) a sweep and write its outputs; see the module docstring."""
    import ray

    config, state, out = prepare(opts)
    spec = parse_scheduler(config.extra.get("scheduler"), config)
    out.mkdir(parents=True, exist_ok=True)
    if not opts.resume:
        atomic_write_text(out / "sweep.yaml", config.to_yaml())
        atomic_write_text(out / "sweep_state.json", json.dumps(state, indent=1) + "\n")
    started = init_ray(opts.address, opts.num_cpus, opts.quiet)
    try:
        grid = _tuner(config, state, out, spec, opts.quiet).fit()
    finally:
        if started:
            ray.shutdown()
    ended = grid.num_terminated + grid.num_errors
    interrupted = ended < max(len(grid), int(state.get("trials") or 0))
    return finish(config, state, out, spec, list(grid), interrupted=interrupted)


def finish(config: RunConfig, state: dict[str, Any], out: Path, spec: SchedulerSpec,
           results: Sequence[Any], interrupted: bool) -> SweepResult:
    """Write results.csv, and unless interrupted best_config.yaml and curves.png."""
    rows = report.trial_rows(results, spec.metric)
    res = SweepResult(output=out, metric=spec.metric, rows=rows, interrupted=interrupted)
    res.results_csv = report.write_csv(rows, out / "results.csv")
    res.table = report.format_table(rows, spec.metric)
    if interrupted:
        return res
    res.groups = report.group_rows(rows, spec.metric)
    res.plot = report.plot_curves(rows, spec.metric, out / "curves.png")
    if res.groups and res.groups[0]["n"]:
        best = res.groups[0]
        params = dict(best["params"])
        if state.get("seeds"):
            params[SEED_KEY] = config.training.seed
        winner = report.best_config(config, params)
        score = (f"{spec.metric} {best['mean']:.4f} ± {best['std']:.4f} over {best['n']} seeds"
                 if state.get("seeds") else f"{spec.metric} {best['mean']:.4f}")
        header = (f"Best config of the sweep in {out} ({score}; trials "
                  f"{', '.join(best['trials'])}).\n"
                  f"Train it: rlcache train --config {out / 'best_config.yaml'}")
        res.best_config = report.write_best_config(winner, out / "best_config.yaml", header)
    return res
