"""DQN / Double DQN agents, Q-networks, replay buffer and schedules.

The torch-backed names (``DQNAgent``, ``ReplayBuffer``) load on first use: the config
(:mod:`rlcache.agents.config`) is read by every command, most of which need no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlcache.agents.config import AGENT_TYPES, DQNConfig
from rlcache.agents.protocol import Agent
from rlcache.agents.schedules import linear_epsilon
from rlcache.lazy import lazy_getattr

if TYPE_CHECKING:
    from rlcache.agents.dqn import DQNAgent
    from rlcache.agents.replay import ReplayBuffer

__all__ = ["AGENT_TYPES", "Agent", "DQNAgent", "DQNConfig", "ReplayBuffer", "linear_epsilon"]
_LAZY = {"DQNAgent": "rlcache.agents.dqn", "ReplayBuffer": "rlcache.agents.replay"}

__getattr__ = lazy_getattr("rlcache.agents", _LAZY, globals())
