"""``rlcache sweep``: hyperparameter search and multi-seed runs on Ray Tune."""

from __future__ import annotations

import sys

import click

from rlcache.cli.common import CONTEXT_SETTINGS, echo
from rlcache.errors import UserError

EPILOG = """\b
A sweep file is a run config (training:, rl:, env:) plus:
  search:                               # dotted key -> one domain
    rl.learning_rate: {loguniform: [1.0e-4, 1.0e-2]}
    rl.gamma: {choice: [0.9, 0.99]}
    rl.batch_size: {grid: [32, 64]}     # grid: every value, x --samples
    training.eval_frequency: {randint: [5, 20]}   # high excluded
    rl.epsilon_end: {uniform: [0.01, 0.1]}
  scheduler: {type: asha, metric: auto, grace_period: 50, reduction_factor: 2}
metric auto: evaluation hit ratio for env cache, else evaluation mean reward.

\b
Outputs in --output: results.csv, best_config.yaml (runs with rlcache train
--config), curves.png, runs/<trial>/ (each trial's run folder), tune/ (Tune state).

\b
Examples:
  rlcache sweep --config configs/sweep_mock.yaml --samples 4 --output results/sweep1
  rlcache sweep --config configs/sweep_mock.yaml --output results/sweep1 --resume
  rlcache sweep --config configs/mock.yaml --seeds 5 --output results/seeds
  rlcache sweep -c configs/sweep_cache.yaml --address 10.0.0.5:6379 -o /shared/sweep2
  rlcache train --config results/sweep1/best_config.yaml
"""


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.option("--config", "-c", "config_path", metavar="SWEEP.yaml",
              help="Sweep file: a run config plus search: and scheduler: sections.")
@click.option("--samples", "-n", type=int, default=1, show_default=True, metavar="N",
              help="Random draws of the search space (grid values multiply them).")
@click.option("--seeds", type=int, metavar="K",
              help="Run every configuration with K seeds (training.seed, +1, ...) and "
                   "report mean ± std of the final evaluation.")
@click.option("--address", metavar="HOST:PORT",
              help="Join a running Ray cluster (ray start --head ...) instead of starting "
                   "local Ray in this process.")
@click.option("--output", "-o", metavar="DIR",
              help="Sweep folder (default: results/sweep-<timestamp>). On a multi-node "
                   "cluster it must be on storage every node shares.")
@click.option("--resume", is_flag=True,
              help="Continue the interrupted sweep in --output: finished trials are kept, "
                   "unfinished ones continue from their last checkpoint.")
@click.option("--max-concurrent", type=int, metavar="N",
              help="Trials running at once (default: as many as the CPUs allow, 1 CPU each).")
@click.option("--max-failures", type=int, default=3, show_default=True, metavar="N",
              help="Restarts of a crashed trial, each from its last checkpoint.")
@click.option("--num-cpus", type=int, metavar="N",
              help="CPUs of the local Ray (default: this machine's); not with --address.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a config key for every trial, e.g. --set training.max_episodes=50 "
                   "(repeatable, as in rlcache train).")
@click.option("--quiet", "-q", is_flag=True, help="Only the final table and errors.")
def sweep(config_path: str | None, samples: int, seeds: int | None, address: str | None,
          output: str | None, resume: bool, max_concurrent: int | None, max_failures: int,
          num_cpus: int | None, sets: tuple[str, ...], quiet: bool) -> None:
    """Search hyperparameters or run many seeds on Ray Tune (local Ray, or a cluster)."""
    try:
        import ray.tune  # noqa: F401

        from rlcache.sweep import SweepOptions, run_sweep
    except ImportError as exc:
        raise UserError(f"rlcache sweep needs the sweep extra: pip install 'rlcache[sweep]' "
                        f"({exc})") from None
    if address and num_cpus:
        raise UserError("--num-cpus: applies to local Ray only; the cluster at --address "
                        "has its own CPUs")
    opts = SweepOptions(config_path=config_path, sets=sets, samples=samples, seeds=seeds,
                        address=address, output=output, resume=resume,
                        max_concurrent=max_concurrent, max_failures=max_failures,
                        num_cpus=num_cpus, quiet=quiet)
    result = run_sweep(opts)
    click.echo(result.table)
    if result.interrupted:
        click.echo(f"rlcache: sweep interrupted; finished trials are kept. Resume with: "
                   f"rlcache sweep --resume --output {result.output}", err=True)
        sys.exit(130)
    if result.groups and any(g["n"] > 1 for g in result.groups):
        from rlcache.sweep.report import format_groups

        click.echo(format_groups(result.groups, result.metric))
    echo(f"Results: {result.results_csv}", quiet)
    if result.plot:
        echo(f"Curves: {result.plot}", quiet)
    if result.best_config:
        click.echo(f"Best config: {result.best_config} "
                   f"(rlcache train --config {result.best_config})")
    failed = [row["trial"] for row in result.rows if row.get("status") == "ERROR"]
    if failed:
        # Results of the trials that did finish are written; the sweep still failed.
        raise click.ClickException(
            f"{len(failed)} of {len(result.rows)} trials failed ({', '.join(failed[:5])}"
            f"{', ...' if len(failed) > 5 else ''}); their errors are in "
            f"{result.output / 'tune'}")
