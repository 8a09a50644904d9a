"""The agent protocol the trainer relies on."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Agent(Protocol):
    """What the trainer needs from an agent; nothing more."""

    def select_action(self, obs: np.ndarray, evaluate: bool = False) -> int:
        """Epsilon-greedy action while training, greedy when ``evaluate``."""

    def store_transition(
        self,
        obs: np.ndarray,
        action: int,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        truncated: bool,
    ) -> None:
        """Record one environment step; counts one env step."""

    def train_step(self) -> dict[str, float] | None:
        """Learn if the agent's own counters say so; the update's metrics or None."""

    def get_metrics(self) -> dict[str, float]:
        """Current counters and schedule values (epsilon, steps, updates)."""

    def state_dict(self, include_replay: bool = True) -> dict[str, Any]:
        """Everything needed to continue exactly; weights-only-safe values only."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""

    def save(self, path: str) -> None:
        """Write ``state_dict()`` to ``path`` atomically."""

    def load(self, path: str) -> None:
        """Read a file written by ``save``."""
