"""``rlcache benchmark``: every (trace, cache size, policy) cell of a corpus, on Ray."""

from __future__ import annotations

import sys

import click

from rlcache.cli.common import CONTEXT_SETTINGS

EPILOG = """\b
Each cell is a Ray task (local Ray on this machine's CPUs by default, a cluster with
--address); each is written to OUTPUT/cells/ as soon as it finishes, so running the same
command again resumes without recomputing. FIFO and LRU always run: the summary reports
every policy's miss-ratio reduction against them.

\b
Examples:
  rlcache benchmark --traces ../shared/traces --output results/bench1
  rlcache benchmark --traces traces/ web.csv.zst --sizes 0.01,0.1 \\
      --policies LRU,ARC,S3FIFO,SIEVE,agent:results/cache1 --split test --output results/b2
  rlcache benchmark --traces /shared/corpus --address HEAD_IP:6379 --output /shared/bench
"""


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.option("--traces", "traces", multiple=True, required=True, metavar="DIR|FILE",
              help="Trace files or folders of them (csv, txt, oracleGeneral, each also .zst); "
                   "repeat the flag or list several after it.")
@click.argument("more_traces", nargs=-1, metavar="[DIR|FILE]...")
@click.option("--sizes", default="0.001,0.01,0.1", show_default=True, metavar="LIST",
              help="Cache sizes: fractions in (0, 1) of each trace's distinct objects (of the "
                   "part judged), or object counts.")
@click.option("--policies", metavar="LIST",
              help="Comma-separated: LRU,LFU,FIFO,ARC,LRFU,S3FIFO,SIEVE,BELADY (the default), "
                   "MRU, RANDOM, policy:FILE (from `rlcache export`), agent:RUN (a run folder "
                   "or checkpoint).")
@click.option("--output", "-o", "output", required=True, metavar="DIR",
              help="Output folder (an existing benchmark folder resumes).")
@click.option("--split", type=click.Choice(["train", "test"]),
              help="Judge only the first (train) or second (test) half of each trace.")
@click.option("--address", metavar="HOST:PORT", help="Run on this Ray cluster.")
@click.option("--num-cpus", type=int, metavar="N", help="Local Ray CPUs (default: all).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def benchmark(traces: tuple[str, ...], more_traces: tuple[str, ...], sizes: str,
              policies: str | None, output: str, split: str | None, address: str | None,
              num_cpus: int | None, quiet: bool) -> int:
    """Judge cache policies over a corpus of traces: results.csv, summary.md, plots."""
    from rlcache.benchmark import BenchmarkOptions, run_benchmark

    opts = BenchmarkOptions(traces=[*traces, *more_traces], output=output, sizes=sizes,
                            policies=policies, split=split, address=address,
                            num_cpus=num_cpus, quiet=quiet)
    result = run_benchmark(opts)
    n = len(result.cells)
    click.echo(f"{len(result.rows)}/{n} cells ({result.computed} computed now, {result.reused} "
         f"reused, {len(result.failed)} failed) -> {result.output}/results.csv, summary.md")
    if result.interrupted:
        # Exit as an interrupted command does (130, 143); the cells written so far are kept.
        click.echo(f"rlcache: interrupted after {len(result.rows)}/{n} cells; run the same "
                   "command again to resume", err=True)
        sys.exit(result.exit_code)
    if result.lost:
        raise _lost(result.lost)
    return 0


def _lost(lost: list[str]) -> click.ClickException:
    exc = click.ClickException(f"{len(lost)} cells did not finish (first: {lost[0]}); run the "
                               "same command again to compute them")
    exc.exit_code = 1
    return exc
