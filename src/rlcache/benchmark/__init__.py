"""Judge cache policies over a corpus of traces, as Ray tasks (``rlcache benchmark``)."""

from rlcache.benchmark.plan import Cell, make_cells, parse_policies, parse_sizes
from rlcache.benchmark.runner import BenchmarkOptions, BenchmarkResult, run_benchmark

__all__ = ["BenchmarkOptions", "BenchmarkResult", "Cell", "make_cells", "parse_policies",
           "parse_sizes", "run_benchmark"]
