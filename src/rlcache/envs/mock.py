"""MockCacheEnvironment: the fast stand-in for the cache env (60-dim, 7 actions)."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlcache.envs.kwargs import env_int


class MockCacheEnvironment(gym.Env):
    """A contextual decision task shaped like the cache env, with a learnable signal.

    The observation has the cache env's layout: ``n_actions`` candidate blocks of
    ``features`` values followed by 4 global values, all in [-1, 1]. Each candidate
    carries a hidden value, a fixed linear mix of its first two features. Choosing the
    candidate with the highest value is a "hit" (reward 1, otherwise 0); choosing one
    whose value is negative is a "miss", and ``max_misses`` misses end the episode.
    A random policy earns about 1/7 per step and dies early; a learned one earns close
    to 1 per step for ``episode_length`` steps.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, n_actions: int = 7, features: int = 8, episode_length: int = 200,
                 max_misses: int = 20) -> None:
        # The observation is n_actions x features floats: bounded so a typo cannot ask
        # for terabytes.
        self.n_actions = env_int("n_actions", n_actions, 2, 4096)
        self.features = env_int("features", features, 2, 4096)
        self.episode_length = env_int("episode_length", episode_length, 1)
        self.max_misses = env_int("max_misses", max_misses, 1)
        dim = self.n_actions * self.features + 4
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(dim,), dtype=np.float32)
        self.action_space = spaces.Discrete(self.n_actions)
        self._obs = np.zeros(dim, dtype=np.float32)
        self._values = np.zeros(self.n_actions)
        self._t = 0
        self._misses = 0
        self._hits = 0

    @property
    def candidate_features(self) -> int:
        """Features per candidate block of the observation."""
        return self.features

    @property
    def global_features(self) -> int:
        """Global features at the end of the observation."""
        return 4

    def _draw(self) -> np.ndarray:
        body = self.np_random.uniform(-1.0, 1.0, size=(self.n_actions, self.features))
        self._values = 0.7 * body[:, 0] + 0.3 * body[:, 1]
        glob = np.array([
            self._misses / self.max_misses,
            self._hits / max(self._t, 1),
            self.np_random.uniform(-1.0, 1.0),
            self._t / self.episode_length,
        ])
        self._obs = np.clip(np.concatenate([body.ravel(), glob]), -1.0, 1.0).astype(np.float32)
        return self._obs

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; ``seed`` reseeds the env's generator."""
        super().reset(seed=seed)
        self._t = self._misses = self._hits = 0
        return self._draw().copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Score the chosen candidate and draw the next decision."""
        a = int(action)
        if not 0 <= a < self.n_actions:
            raise ValueError(f"action {action!r} outside 0..{self.n_actions - 1}")
        hit = a == int(np.argmax(self._values))
        self._hits += hit
        self._misses += bool(self._values[a] < 0)
        self._t += 1
        terminated = self._misses >= self.max_misses
        truncated = not terminated and self._t >= self.episode_length
        info = {"hits": self._hits, "misses": self._misses, "steps": self._t}
        return self._draw().copy(), float(hit), terminated, truncated, info
