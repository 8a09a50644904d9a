"""DQN / Double DQN agents, Q-networks, replay buffer and schedules.

The torch-backed names (``DQNAgent``, ``ReplayBuffer``) load on first use: the config
(:mod:`rlcache.agents.config`) is read by every command, most of which need no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rlcache.agents.config import AGENT_TYPES, DQNConfig
from rlcache.agents.protocol import Agent
from rlcache.agents.schedules import linear_epsilon

if TYPE_CHECKING:
    from rlcache.agents.dqn import DQNAgent
    from rlcache.agents.replay import ReplayBuffer

__all__ = ["AGENT_TYPES", "Agent", "DQNAgent", "DQNConfig", "ReplayBuffer", "linear_epsilon"]
_LAZY = {"DQNAgent": "rlcache.agents.dqn", "ReplayBuffer": "rlcache.agents.replay"}


def __getattr__(name: str) -> Any:
    """``DQNAgent`` and ``ReplayBuffer``, imported (with torch) when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rlcache.agents' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
