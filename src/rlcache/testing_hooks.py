"""Test hooks: the environment variables with which tests and ``bench/chaos.py`` inject
faults and delays. Each is read here, where it acts; unset (the normal case), none has
any effect. Ray workers inherit them (``cluster.FORWARDED_ENV_PREFIXES``)."""

from __future__ import annotations

import os
import time

SLOW_WRITE_ENV = "RLCACHE_TEST_SLOW_WRITE"
"""Seconds to sleep before renaming a written temp file into place, so that a chaos test's
kills land inside writes (unset or invalid: no sleep)."""
FAULT_ENV = "RLCACHE_FAULT_AT_EPISODE"
"""A fresh sweep trial kills its process right after reporting an evaluation at episode >= N."""
SWEEP_INTERRUPT_ENV = "RLCACHE_SWEEP_INTERRUPT_AFTER"
"""The sweep driver interrupts itself (SIGINT, as Ctrl-C) after this many trials end."""
BENCHMARK_INTERRUPT_ENV = "RLCACHE_BENCHMARK_INTERRUPT_AFTER"
"""The benchmark driver interrupts itself (SIGINT, as Ctrl-C) after this many new cells."""
SLOW_CELL_ENV = "RLCACHE_TEST_SLOW_CELL"
"""``POLICY=S``: a benchmark cell of this policy sleeps S seconds (default 5) after it
starts, long enough for a test to kill its worker mid-cell."""
CELL_LOG_ENV = "RLCACHE_TEST_CELL_LOG"
"""Each benchmark cell appends its start (pid, key, policy) to this file."""


def slow_write_seconds() -> float:
    """``SLOW_WRITE_ENV`` as seconds in (0, 60), else 0."""
    text = os.environ.get(SLOW_WRITE_ENV)
    if not text:
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        return 0.0
    return seconds if 0.0 < seconds < 60.0 else 0.0


def _count(name: str) -> int:
    return int(os.environ.get(name) or 0)


def fault_at_episode() -> int:
    """``FAULT_ENV``; 0 when unset."""
    return _count(FAULT_ENV)


def sweep_interrupt_after() -> int:
    """``SWEEP_INTERRUPT_ENV``; 0 when unset."""
    return _count(SWEEP_INTERRUPT_ENV)


def benchmark_interrupt_after() -> int:
    """``BENCHMARK_INTERRUPT_ENV``; 0 when unset."""
    return _count(BENCHMARK_INTERRUPT_ENV)


def benchmark_cell_started(key: str, policy: str) -> None:
    """Log a cell's start to ``CELL_LOG_ENV``, then sleep if ``SLOW_CELL_ENV`` names its policy."""
    path = os.environ.get(CELL_LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {key} {policy}\n")
    name, _, seconds = os.environ.get(SLOW_CELL_ENV, "").partition("=")
    if name and name == policy:
        time.sleep(float(seconds or 5))
