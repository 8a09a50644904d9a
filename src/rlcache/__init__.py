"""rlcache: DQN agents that manage caches, and the orchestrator that trains them."""

__version__ = "0.1.0"
