"""The ``scheduler:`` section: ASHA or FIFO, and the metric trials are ranked by.

::

    scheduler:
      type: asha            # asha (stop weak trials early) | fifo (run every trial fully)
      metric: auto          # auto | mean_reward | hit_ratio  (auto: hit_ratio for env cache)
      grace_period: 50      # asha: episodes every trial runs before it can be stopped
      reduction_factor: 2   # asha: keep 1/reduction_factor of the trials at each rung
      max_t: null           # asha: episodes at the last rung (default training.max_episodes)

The metric is the evaluation's mean reward (``eval_mean_reward``) or, for the cache env,
its hit ratio (``eval_hit_ratio``); higher is better. ASHA measures time in training
episodes (the ``episode`` of each evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rlcache.config import RunConfig
from rlcache.errors import UserError

METRICS = {"mean_reward": "eval_mean_reward", "hit_ratio": "eval_hit_ratio"}
TYPES = ("asha", "fifo")
KEYS = ("type", "metric", "grace_period", "reduction_factor", "max_t")
TIME_ATTR = "episode"


@dataclass
class SchedulerSpec:
    """A validated ``scheduler:`` section."""

    type: str = "fifo"
    metric: str = "eval_mean_reward"
    grace_period: int = 1
    reduction_factor: int = 2
    max_t: int = 1

    def build(self) -> Any:
        """The Tune scheduler (metric and mode are given to TuneConfig, not here)."""
        from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

        if self.type == "fifo":
            return FIFOScheduler()
        return ASHAScheduler(time_attr=TIME_ATTR, max_t=self.max_t,
                             grace_period=self.grace_period,
                             reduction_factor=self.reduction_factor)


def _positive_int(section: Mapping[str, Any], key: str, default: int) -> int:
    value = section.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UserError(f"scheduler.{key}: expected a positive integer, got {value!r}")
    return value


def parse_scheduler(section: Mapping[str, Any] | None, base: RunConfig) -> SchedulerSpec:
    """Validate ``scheduler:`` against the base config (defaults: fifo, metric auto)."""
    section = section or {}
    if not isinstance(section, Mapping):
        raise UserError(f"scheduler: expected a mapping (type, metric, grace_period, ...), "
                        f"got {section!r}")
    for key in section:
        if key not in KEYS:
            raise UserError(f"scheduler.{key}: unknown key (valid: {', '.join(KEYS)})")
    kind = str(section.get("type", "fifo")).lower()
    if kind not in TYPES:
        raise UserError(f"scheduler.type: expected one of {', '.join(TYPES)}, got {kind!r}")
    metric = str(section.get("metric", "auto")).lower()
    if metric == "auto":
        metric = "hit_ratio" if base.env_name == "cache" else "mean_reward"
    if metric not in METRICS:
        raise UserError(f"scheduler.metric: expected auto, mean_reward or hit_ratio, "
                        f"got {metric!r}")
    if metric == "hit_ratio" and base.env_name != "cache":
        raise UserError(f"scheduler.metric: hit_ratio needs env cache, the env is "
                        f"{base.env_name}")
    tr = base.training
    max_t = _positive_int(section, "max_t", tr.max_episodes)
    grace = _positive_int(section, "grace_period", min(tr.eval_frequency, max_t))
    if grace > max_t:
        raise UserError(f"scheduler.grace_period: {grace} exceeds max_t {max_t}")
    factor = _positive_int(section, "reduction_factor", 2)
    if factor < 2:
        raise UserError(f"scheduler.reduction_factor: expected an integer >= 2, got {factor}")
    return SchedulerSpec(type=kind, metric=METRICS[metric], grace_period=grace,
                         reduction_factor=factor, max_t=max_t)
