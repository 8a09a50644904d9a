"""Standalone cache simulator: traces, readers, generators, policies, Belady's MIN.

No torch and no Gymnasium here; ``CacheState`` is the step-by-step engine the RL env uses.
"""

import rlcache.cache._fresh_kernels  # noqa: F401  (first: drops stale cached kernels)
from rlcache.cache.arc import arc_hits
from rlcache.cache.generators import (
    WORKLOADS,
    churn,
    generate,
    loop,
    phased,
    shift,
    zipf,
    zipf_scan,
)
from rlcache.cache.policies import SimResult, belady_hits, check_capacity
from rlcache.cache.readers import (
    FORMATS,
    ORACLE_DTYPE,
    infer_format,
    read_csv,
    read_oracle_general,
    read_trace,
    read_txt,
    write_oracle_general,
)
from rlcache.cache.registry import (
    EVAL_POLICIES,
    POLICIES,
    REGISTRY,
    Policy,
    normalize_policy,
    simulate,
    simulate_many,
)
from rlcache.cache.report import (
    LIBCACHESIM_POLICIES,
    baseline_table,
    format_table,
    gap_share,
    libcachesim_available,
    libcachesim_table,
    parse_capacity,
)
from rlcache.cache.state import SOURCES, CacheState
from rlcache.cache.trace import NEVER, Trace, TraceError, next_access_of

__all__ = [
    "EVAL_POLICIES",
    "FORMATS",
    "LIBCACHESIM_POLICIES",
    "NEVER",
    "ORACLE_DTYPE",
    "POLICIES",
    "REGISTRY",
    "SOURCES",
    "WORKLOADS",
    "CacheState",
    "Policy",
    "SimResult",
    "Trace",
    "TraceError",
    "arc_hits",
    "baseline_table",
    "belady_hits",
    "check_capacity",
    "churn",
    "format_table",
    "gap_share",
    "generate",
    "infer_format",
    "libcachesim_available",
    "libcachesim_table",
    "loop",
    "next_access_of",
    "normalize_policy",
    "parse_capacity",
    "phased",
    "read_csv",
    "read_oracle_general",
    "read_trace",
    "read_txt",
    "shift",
    "simulate",
    "simulate_many",
    "write_oracle_general",
    "zipf",
    "zipf_scan",
]
