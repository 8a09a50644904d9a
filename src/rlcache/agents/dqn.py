"""DQN and Double DQN in PyTorch, implementing the agent protocol of DESIGN.md."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rlcache.agents.config import DQNConfig
from rlcache.agents.networks import build_q_network
from rlcache.agents.replay import ReplayBuffer
from rlcache.agents.schedules import linear_epsilon
from rlcache.errors import UserError
from rlcache.serialization import atomic_torch_save, safe_torch_load


def resolve_device(name: str) -> torch.device:
    """``auto`` means CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _make_optimizer(params: Any, lr: float, device: torch.device) -> torch.optim.Optimizer:
    # The fused kernel does the whole Adam step in one call; it is several times
    # cheaper than the per-tensor loop, and deterministic.
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # pragma: no cover - builds without fused Adam
        return torch.optim.Adam(params, lr=lr, foreach=device.type == "cuda")


class DQNAgent:
    """DQN (Mnih et al. 2015) with optional Double DQN targets and dueling heads."""

    def __init__(self, config: DQNConfig) -> None:
        self.config = config.validate()
        self.device = resolve_device(config.device)
        self.rng = np.random.default_rng(config.seed)
        # Weights come from the agent's own seed, whatever the global torch RNG holds.
        with torch.random.fork_rng(devices=[]):
            if config.seed is not None:
                torch.manual_seed(config.seed)
            self.q_net = build_q_network(config).to(self.device)
        self.target_net = copy.deepcopy(self.q_net)
        self.target_net.requires_grad_(False)
        self.optimizer = _make_optimizer(self.q_net.parameters(), config.learning_rate,
                                         self.device)
        self.replay = ReplayBuffer(config.buffer_size, config.state_dim)
        self.num_steps = 0
        self.num_updates = 0

    @property
    def epsilon(self) -> float:
        """Exploration rate at the current env step."""
        c = self.config
        return linear_epsilon(self.num_steps, c.epsilon_start, c.epsilon_end,
                              c.exploration_steps)

    def _obs_tensor(self, obs: Any) -> torch.Tensor:
        return torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)

    def select_action(self, obs: Any, evaluate: bool = False) -> int:
        """Epsilon-greedy while training; greedy (and RNG-free) when ``evaluate``."""
        if not evaluate and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.config.action_dim))
        with torch.inference_mode():
            q = self.q_net(self._obs_tensor(obs).unsqueeze(0))
        return int(q.argmax(dim=1).item())

    def q_values(self, obs: Any) -> np.ndarray:
        """Q-values of one observation or a batch, as numpy."""
        x = self._obs_tensor(obs)
        with torch.inference_mode():
            q = self.q_net(x.unsqueeze(0) if x.ndim == 1 else x)
        return q.cpu().numpy()

    def store_transition(self, obs: Any, action: int, reward: float, next_obs: Any,
                         terminated: bool, truncated: bool) -> None:
        """Record one env step; truncation still bootstraps, termination does not."""
        self.replay.add(obs, action, reward, next_obs, terminated)
        self.num_steps += 1

    def train_step(self) -> dict[str, float] | None:
        """Update the target on schedule and learn when the counters say so."""
        c = self.config
        if self.num_steps % c.target_update_interval == 0:
            self._update_target()
        if self.num_steps < c.learning_starts or self.num_steps % c.train_freq != 0:
            return None
        if len(self.replay) < c.batch_size:
            return None
        loss_sum = q_sum = 0.0
        for _ in range(c.gradient_steps):
            loss, q_mean = self._update()
            loss_sum += loss
            q_sum += q_mean
        n = c.gradient_steps
        return {"loss": loss_sum / n, "q_mean": q_sum / n}

    def td_target(self, rewards: torch.Tensor, next_obs: torch.Tensor,
                  dones: torch.Tensor) -> torch.Tensor:
        """r + gamma * Q_target(s', a*) with a* from the online net under Double DQN."""
        with torch.no_grad():
            next_target = self.target_net(next_obs)
            if self.config.double_q:
                best = self.q_net(next_obs).argmax(dim=1, keepdim=True)
                next_q = next_target.gather(1, best).squeeze(1)
            else:
                next_q = next_target.max(dim=1).values
            return rewards + self.config.gamma * (1.0 - dones) * next_q

    def _update(self) -> tuple[float, float]:
        c = self.config
        idx = self.replay.sample_indices(self.rng, c.batch_size)
        obs, actions, rewards, next_obs, dones = (
            torch.from_numpy(a).to(self.device) for a in self.replay.get(idx)
        )
        target = self.td_target(rewards, next_obs, dones)
        q = self.q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(q, target) if c.huber else F.mse_loss(q, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.q_net.parameters(), c.max_grad_norm,
                                           foreach=True)
        self.optimizer.step()
        self.num_updates += 1
        return float(loss.detach()), float(q.detach().mean())

    @torch.no_grad()
    def _update_target(self) -> None:
        tau = self.config.tau
        if tau >= 1.0:
            self.target_net.load_state_dict(self.q_net.state_dict())
            return
        online = list(self.q_net.parameters())
        target = list(self.target_net.parameters())
        torch._foreach_lerp_(target, online, tau)

    def get_metrics(self) -> dict[str, float]:
        """Counters and schedule values."""
        return {
            "epsilon": self.epsilon,
            "num_steps": self.num_steps,
            "num_updates": self.num_updates,
            "buffer_size": len(self.replay),
        }

    def state_dict(self, include_replay: bool = True) -> dict[str, Any]:
        """Everything needed to continue exactly; weights-only-safe values only."""
        return {
            "config": self.config.to_dict(),
            "q_net": self.q_net.state_dict(),
            "target_net": self.target_net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "num_steps": self.num_steps,
            "num_updates": self.num_updates,
            "rng": self.rng.bit_generator.state,
            "replay": self.replay.state_dict() if include_replay else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict``; the observation and action sizes must match."""
        saved = state["config"]
        for key in ("state_dim", "action_dim", "network"):
            if saved.get(key) != getattr(self.config, key):
                raise UserError(
                    f"checkpoint agent has {key}={saved.get(key)!r} but this environment "
                    f"needs {key}={getattr(self.config, key)!r}"
                )
        self.q_net.load_state_dict(state["q_net"])
        self.target_net.load_state_dict(state["target_net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.num_steps = int(state["num_steps"])
        self.num_updates = int(state["num_updates"])
        self.rng.bit_generator.state = state["rng"]
        if state.get("replay") is not None:
            self.replay.load_state_dict(state["replay"])

    def save(self, path: str) -> None:
        """Write ``state_dict()`` to ``path`` atomically."""
        atomic_torch_save(self.state_dict(), path)

    def load(self, path: str) -> None:
        """Load a file written by ``save`` (weights-only)."""
        self.load_state_dict(safe_torch_load(path))
