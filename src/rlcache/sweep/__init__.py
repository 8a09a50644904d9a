"""Hyperparameter sweeps and multi-seed runs on Ray Tune (the ``sweep`` extra).

Ray is imported only when a sweep runs, so ``import rlcache.sweep`` works without it.
"""

from __future__ import annotations

from rlcache.sweep.runner import SweepOptions, SweepResult, run_sweep

__all__ = ["SweepOptions", "SweepResult", "run_sweep"]
