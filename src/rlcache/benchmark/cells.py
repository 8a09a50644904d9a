"""Judge one cell: read the trace (kept for the worker's next cells), replay, time it.

Runs inside a Ray worker (or in-process). Never raises for a bad trace, size or policy
file: the row carries a one-line ``error`` instead, so one bad file fails only its cells.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from rlcache import testing_hooks
from rlcache.benchmark.plan import Cell
from rlcache.cache.readers import read_trace
from rlcache.cache.registry import simulate
from rlcache.cache.report import parse_capacity
from rlcache.cache.trace import Trace
from rlcache.errors import UserError

_TRACES: OrderedDict[tuple[str, str, str | None], Trace] = OrderedDict()
_KEEP_TRACES = 2
_SELECTORS: dict[str, tuple[Callable[[np.ndarray], int], dict[str, Any], str]] = {}
_WARM: set[str] = set()


def _trace(cell: Cell) -> Trace:
    key = (cell.trace, cell.fingerprint, cell.split)
    if key in _TRACES:
        _TRACES.move_to_end(key)
        return _TRACES[key]
    trace = read_trace(cell.trace)
    if len(trace) == 0:
        raise UserError(f"{cell.trace}: the trace has no requests")
    if cell.split is not None:
        if len(trace) < 2:
            raise UserError(f"{cell.trace}: a trace of {len(trace)} request cannot be split")
        first, second = trace.split(0.5)
        trace = first if cell.split == "train" else second
    _TRACES[key] = trace
    while len(_TRACES) > _KEEP_TRACES:
        _TRACES.popitem(last=False)
    return trace


def _selector(spec: str) -> tuple[Callable[[np.ndarray], int], dict[str, Any], str]:
    """``select(obs) -> action``, the env section it trained with, and the file used."""
    if spec not in _SELECTORS:
        kind, _, path = spec.partition(":")
        _SELECTORS[spec] = _load_policy(path) if kind == "policy" else _load_agent(path)
    return _SELECTORS[spec]


def _load_policy(path: str) -> tuple[Callable[[np.ndarray], int], dict[str, Any], str]:
    try:
        from rlcache.policy import load_policy
    except ImportError:  # pragma: no cover - rlcache.policy ships with rlcache
        raise UserError("policy:FILE is not available yet (no rlcache.policy)") from None
    loaded = load_policy(path)
    return loaded.select, dict(loaded.env), str(path)


def _load_agent(run: str) -> tuple[Callable[[np.ndarray], int], dict[str, Any], str]:
    # The checkpoint path `rlcache evaluate -k` takes: verified, weights-only, greedy.
    from rlcache import builders, runs
    from rlcache.agents import DQNAgent

    loaded, _ = runs.choose_for_evaluation(run, flag=None)
    config = runs.checkpoint_run_config(loaded)
    if config.env_name != "cache":
        raise UserError(f"{run}: agent:RUN needs a cache-env run; this one trained on "
                        f"{config.env_name!r}")
    dqn = config.dqn_config(*builders.checkpoint_dims(loaded.payload))
    agent = DQNAgent(dqn)
    agent.load_state_dict(loaded.payload["agent"])
    return (lambda obs: agent.select_action(obs, evaluate=True)), dict(config.env_kwargs), \
        str(loaded.path)


def _learned_hits(cell: Cell, trace: Trace, capacity: int) -> tuple[int, str]:
    from rlcache.envs.trace_replay import evaluate_on_trace

    select, env, used = _selector(cell.policy)
    kwargs = {k: v for k, v in env.items()
              if k not in ("name", "mix", "workload", "trace", "format", "split")}
    kwargs["cache_size"] = capacity
    table = evaluate_on_trace(select, kwargs, trace=trace, policies=())
    return int(table["agent"]["hits"]), used


def run_cell(cell: Cell) -> dict[str, Any]:
    """The cell's row: requests, objects, capacity, hits, ratios, seconds, or an error."""
    row: dict[str, Any] = {"key": cell.key, "trace_path": cell.trace, "size": cell.size,
                           "policy": cell.policy, "split": cell.split or "", "error": ""}
    testing_hooks.benchmark_cell_started(cell.key, cell.policy)
    try:
        trace = _trace(cell)
        row.update(requests=len(trace), objects=trace.n_objects)
        capacity = parse_capacity(cell.size, trace.n_objects)
        row["capacity"] = capacity
        if cell.policy.startswith(("policy:", "agent:")):
            _selector(cell.policy)  # loaded once per worker, not timed
            started = time.perf_counter()
            hits, used = _learned_hits(cell, trace, capacity)
            row["checkpoint"] = used
        else:
            if cell.policy not in _WARM:
                # Load the compiled replay first, so that the rate measures the replay.
                simulate(trace.slice(0, 64), cell.policy, 1)
                _WARM.add(cell.policy)
            started = time.perf_counter()
            hits = simulate(trace, cell.policy, capacity).hits
        seconds = time.perf_counter() - started
    except Exception as exc:  # a bad file or size fails its cell, never the benchmark
        row["error"] = _one_line(exc)
        return row
    n = len(trace)
    row.update(hits=hits, hit_ratio=hits / n, miss_ratio=1.0 - hits / n,
               seconds=round(seconds, 6),
               requests_per_s=round(n / seconds) if seconds > 0 else None)
    return row


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, UserError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
