"""Checks for env keyword arguments: they come straight from YAML and ``--set``."""

from __future__ import annotations

from typing import Any

from rlcache.errors import UserError


def env_int(name: str, value: Any, low: int) -> int:
    """``value`` as an integer >= ``low``; UserError naming ``env.<name>`` otherwise."""
    try:
        if isinstance(value, bool):
            raise ValueError
        out = int(value)
        if out != float(value):
            raise ValueError
    except (TypeError, ValueError):
        raise UserError(f"env.{name}: expected an integer >= {low}, got {value!r}") from None
    if out < low:
        raise UserError(f"env.{name}: expected an integer >= {low}, got {value!r}")
    return out


def env_float(name: str, value: Any) -> float:
    """``value`` as a float; UserError naming ``env.<name>`` otherwise."""
    try:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"env.{name}: expected a number, got {value!r}") from None
