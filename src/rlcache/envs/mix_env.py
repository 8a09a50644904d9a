"""MixEnv: training over several traces at once (``env.mix_episodes``), a part per episode.

A general agent (the shipped ``pretrained`` policy) learns from the synthetic families and
real trace files together. Concatenating them into one trace would size a fractional
cache against all of them at once and put the validation slice in the last part only;
here each ``env.mix`` part is a :class:`CacheEnv` of its own (its trace, its capacities,
its held-out end) and each episode draws one part, with probability proportional to its
``weight``. All parts share the feature set and candidates, so one network fits all.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from rlcache.envs.cache_env import CacheEnv, CacheEnvConfig


class MixEnv(gym.Env):
    """One :class:`CacheEnv` per ``env.mix`` part; ``reset`` draws the episode's part."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, config: CacheEnvConfig) -> None:
        self.config = config
        mix = config.mix or []
        self.parts = [CacheEnv(config.part_config(i)) for i in range(len(mix))]
        weights = np.array([float(p.get("weight", 1.0)) for p in mix])
        self.weights = weights / weights.sum()
        self.observation_space = self.parts[0].observation_space
        self.action_space = self.parts[0].action_space
        self.current = self.parts[0]
        self.part = 0

    @property
    def candidate_features(self) -> int:
        """Features per candidate block of the observation (every part's)."""
        return self.parts[0].candidate_features

    @property
    def global_features(self) -> int:
        """Global features at the end of the observation."""
        return self.parts[0].global_features

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw a part, then reset it with a seed drawn here (so one seed replays a run)."""
        super().reset(seed=seed)
        self.part = int(self.np_random.choice(len(self.parts), p=self.weights))
        self.current = self.parts[self.part]
        obs, info = self.current.reset(seed=int(self.np_random.integers(2**31)),
                                       options=options)
        return obs, {**info, "part": self.part}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """The drawn part's step."""
        obs, reward, done, truncated, info = self.current.step(action)
        return obs, reward, done, truncated, {**info, "part": self.part}

    def validation_env(self) -> CycleEnv | None:
        """Every part's held-out slice in turn (parts without one are skipped), or None.

        Episode ``j`` replays part ``j % P``'s slice at that part's next size, so
        ``P x len(cache_sizes)`` evaluation episodes score the agent on every part and size.
        """
        envs = [e for e in (p.validation_env() for p in self.parts) if e is not None]
        return CycleEnv(envs) if envs else None


class CycleEnv(gym.Env):
    """Several envs of one observation layout, each episode on the next in turn."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, envs: list[CacheEnv]) -> None:
        self.envs = envs
        self.observation_space = envs[0].observation_space
        self.action_space = envs[0].action_space
        self.current = envs[0]
        self._resets = 0

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """The next env's episode."""
        super().reset(seed=seed)
        self.current = self.envs[self._resets % len(self.envs)]
        self._resets += 1
        return self.current.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """The current env's step."""
        return self.current.step(action)
