"""The ``rlcache`` command line: a Click group; each command lives in its own module.

Errors are handled in one place, :func:`run_command`: a :class:`~rlcache.errors.UserError`
or a Click usage error prints ``rlcache: error: <one line>`` on stderr and exits 2,
with no traceback.
"""

from __future__ import annotations

import click

import rlcache
from rlcache.cli.baselines import baselines
from rlcache.cli.benchmark import benchmark
from rlcache.cli.common import CONTEXT_SETTINGS, RlcacheGroup, run_command
from rlcache.cli.evaluate import evaluate
from rlcache.cli.export import export
from rlcache.cli.plot import plot
from rlcache.cli.sweep import sweep
from rlcache.cli.train import train

__all__ = ["main", "run_command"]


@click.group(cls=RlcacheGroup, context_settings=CONTEXT_SETTINGS, epilog="""\b
Examples:
  rlcache train --config configs/default.yaml --output results/run1
  rlcache train --resume results/run1/checkpoints/latest.pt --episodes 200
  rlcache evaluate --checkpoint results/run1/checkpoints/best.pt --json
  rlcache plot results/run1 results/run2 --out compare.png

Run `rlcache COMMAND --help` for a command's options.""")
@click.version_option(rlcache.__version__, "--version", "-V", prog_name="rlcache")
def main() -> None:
    """Train DQN agents that manage a cache, evaluate them and plot their runs."""


main.add_command(train)
main.add_command(evaluate)
main.add_command(plot)
main.add_command(baselines)
main.add_command(sweep)
main.add_command(export)
main.add_command(benchmark)
