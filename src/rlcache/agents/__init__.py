"""DQN / Double DQN agents, Q-networks, replay buffer and schedules."""

from rlcache.agents.config import AGENT_TYPES, DQNConfig
from rlcache.agents.dqn import DQNAgent
from rlcache.agents.protocol import Agent
from rlcache.agents.replay import ReplayBuffer
from rlcache.agents.schedules import linear_epsilon

__all__ = ["AGENT_TYPES", "Agent", "DQNAgent", "DQNConfig", "ReplayBuffer", "linear_epsilon"]
