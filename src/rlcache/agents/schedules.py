"""Exploration schedules."""

from __future__ import annotations


def linear_epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    """Epsilon decayed linearly from ``start`` to ``end`` over ``decay_steps`` env steps."""
    if decay_steps <= 0 or step >= decay_steps:
        return end
    return start + (end - start) * (step / decay_steps)
