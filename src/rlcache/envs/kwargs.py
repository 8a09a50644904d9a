"""Checks for env keyword arguments: they come straight from YAML and ``--set``."""

from __future__ import annotations

from typing import Any

from rlcache.errors import UserError


def env_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an integer in [``low``, ``high``]; UserError naming ``env.<name>``."""
    expected = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
    try:
        if isinstance(value, bool):
            raise ValueError
        out = int(value)
        if out != float(value):
            raise ValueError
    except (TypeError, ValueError):
        raise UserError(f"env.{name}: expected {expected}, got {value!r}") from None
    if out < low or (high is not None and out > high):
        raise UserError(f"env.{name}: expected {expected}, got {value!r}")
    return out


def env_float(name: str, value: Any) -> float:
    """``value`` as a float; UserError naming ``env.<name>`` otherwise."""
    try:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"env.{name}: expected a number, got {value!r}") from None
