"""A numpy ring replay buffer with a complete, weights-only-safe state_dict."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class ReplayBuffer:
    """Fixed-capacity ring of (obs, action, reward, next_obs, done) transitions.

    ``done`` is *termination* only: a truncated step still bootstraps. With
    ``action_dim`` > 0 it also keeps, per transition, the reward of every action
    (``action_rewards``, full-information bandit updates).
    """

    def __init__(self, capacity: int, obs_dim: int, action_dim: int = 0) -> None:
        self.capacity = int(capacity)
        self.obs_dim = int(obs_dim)
        self.obs = np.zeros((self.capacity, self.obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((self.capacity, self.obs_dim), dtype=np.float32)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.dones = np.zeros(self.capacity, dtype=np.float32)
        self.action_rewards = np.zeros((self.capacity if action_dim else 0, action_dim),
                                       dtype=np.float32)
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs: Any, action: int, reward: float, next_obs: Any, done: bool,
            action_rewards: Any = None) -> None:
        """Append one transition, overwriting the oldest when full."""
        i = self.pos
        if action_rewards is not None:
            self.action_rewards[i] = action_rewards
        self.obs[i] = obs
        self.next_obs[i] = next_obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.dones[i] = done
        self.pos = (i + 1) % self.capacity
        if self.size < self.capacity:
            self.size += 1

    def add_batch(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                  next_obs: np.ndarray, dones: np.ndarray,
                  action_rewards: np.ndarray | None = None) -> None:
        """Append a batch of transitions in order (as that many ``add`` calls)."""
        m = len(actions)
        if m > self.capacity:  # only the newest fit
            k = m - self.capacity
            action_rewards = None if action_rewards is None else action_rewards[k:]
            self.pos = (self.pos + k) % self.capacity
            self.size = min(self.capacity, self.size + k)
            obs, actions, rewards = obs[k:], actions[k:], rewards[k:]
            next_obs, dones, m = next_obs[k:], dones[k:], self.capacity
        first = min(m, self.capacity - self.pos)  # slices, not a fancy index: no gather
        for lo, hi, at in ((0, first, self.pos), (first, m, 0)):
            if hi > lo:
                rows = slice(at, at + hi - lo)
                self.obs[rows] = obs[lo:hi]
                self.next_obs[rows] = next_obs[lo:hi]
                self.actions[rows] = actions[lo:hi]
                self.rewards[rows] = rewards[lo:hi]
                self.dones[rows] = dones[lo:hi]
                if action_rewards is not None:
                    self.action_rewards[rows] = action_rewards[lo:hi]
        self.pos = (self.pos + m) % self.capacity
        self.size = min(self.capacity, self.size + m)

    def sample_indices(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """Uniform indices over the filled slots only."""
        return rng.integers(0, self.size, size=batch_size)

    def get(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """The transitions at ``idx`` as numpy arrays."""
        return (self.obs[idx], self.actions[idx], self.rewards[idx],
                self.next_obs[idx], self.dones[idx])

    def get_into(self, idx: np.ndarray, out: tuple[np.ndarray, ...]) -> None:
        """Write the transitions at ``idx`` into ``out`` (obs, actions, rewards, next_obs,
        dones, and action_rewards if ``out`` has a sixth array; preallocated, ``len(idx)``
        rows each) without temporary arrays.

        ``idx`` must hold valid slots (``sample_indices`` does).
        """
        obs, actions, rewards, next_obs, dones = out[:5]
        if len(out) > 5:
            np.take(self.action_rewards, idx, axis=0, out=out[5], mode="clip")
        # mode="clip" writes straight into ``out``; "raise" would buffer first.
        np.take(self.obs, idx, axis=0, out=obs, mode="clip")
        np.take(self.next_obs, idx, axis=0, out=next_obs, mode="clip")
        np.take(self.actions, idx, out=actions, mode="clip")
        np.take(self.rewards, idx, out=rewards, mode="clip")
        np.take(self.dones, idx, out=dones, mode="clip")

    def state_dict(self) -> dict[str, Any]:
        """Filled slots as tensors plus the ring position."""
        n = self.size
        return {
            "capacity": self.capacity,
            "obs_dim": self.obs_dim,
            "pos": self.pos,
            "size": n,
            "obs": torch.from_numpy(self.obs[:n]),
            "next_obs": torch.from_numpy(self.next_obs[:n]),
            "actions": torch.from_numpy(self.actions[:n]),
            "rewards": torch.from_numpy(self.rewards[:n]),
            "dones": torch.from_numpy(self.dones[:n]),
            **({"action_rewards": torch.from_numpy(self.action_rewards[:n])}
               if len(self.action_rewards) else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from ``state_dict`` (capacity and obs size must match)."""
        if int(state["capacity"]) != self.capacity or int(state["obs_dim"]) != self.obs_dim:
            raise ValueError(
                f"replay buffer mismatch: saved capacity {state['capacity']} x obs "
                f"{state['obs_dim']}, this buffer {self.capacity} x {self.obs_dim}"
            )
        n = int(state["size"])
        for name in ("obs", "next_obs", "actions", "rewards", "dones"):
            getattr(self, name)[:n] = state[name].numpy()
            getattr(self, name)[n:] = 0
        if len(self.action_rewards):
            self.action_rewards[:] = 0
            if "action_rewards" in state:
                self.action_rewards[:n] = state["action_rewards"].numpy()
        self.size = n
        self.pos = int(state["pos"])
