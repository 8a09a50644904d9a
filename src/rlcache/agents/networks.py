"""Q-networks: a plain or dueling MLP, and a per-candidate scorer."""

from __future__ import annotations

import itertools
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rlcache.agents.config import DQNConfig


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _linears(seq: nn.Sequential) -> tuple[nn.Linear, ...]:
    return tuple(m for m in seq if isinstance(m, nn.Linear))


def mlp_forward(linears: tuple[nn.Linear, ...], x: torch.Tensor,
                final_relu: bool = False) -> torch.Tensor:
    """What ``mlp(...)(x)`` computes (F.linear, F.relu: the very ops nn.Linear and
    nn.ReLU call, so the same numbers), without one module call per layer: these
    networks are small enough for that call overhead to matter."""
    last = len(linears) - 1
    for i, layer in enumerate(linears):
        x = F.linear(x, layer.weight, layer.bias)
        if i < last or final_relu:
            x = F.relu(x)
    return x


class QNetwork(nn.Module):
    """MLP from the flat observation to one Q-value per action."""

    def __init__(self, state_dim: int, action_dim: int, hidden: list[int], dueling: bool):
        super().__init__()
        self.dueling = dueling
        if dueling:
            self.body = mlp([state_dim, *hidden])
            self.value = nn.Linear(hidden[-1], 1)
            self.advantage = nn.Linear(hidden[-1], action_dim)
        else:
            self.body = mlp([state_dim, *hidden, action_dim])
        self._layers = _linears(self.body)

    def score_actions(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """``forward(obs)[i, actions[i]]`` for each row."""
        return self(obs).gather(1, actions.unsqueeze(1)).squeeze(1)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Q-values, shape (batch, actions)."""
        if not self.dueling:
            return mlp_forward(self._layers, obs)
        h = mlp_forward(self._layers, obs, final_relu=True)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(dim=1, keepdim=True)


class CandidateScorer(nn.Module):
    """One shared MLP scores each candidate from its features plus the global ones.

    The observation is K blocks of ``candidate_features`` followed by
    ``global_features``; the output has one Q-value per candidate, so the network is
    permutation-equivariant over candidates and its size does not depend on K.
    """

    def __init__(self, n_candidates: int, candidate_features: int, global_features: int,
                 hidden: list[int]):
        super().__init__()
        self.k = n_candidates
        self.f = candidate_features
        self.g = global_features
        self.scorer = mlp([candidate_features + global_features, *hidden, 1])
        self._layers = _linears(self.scorer)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Q-values, shape (batch, candidates)."""
        batch = obs.shape[0]
        cands = obs[:, : self.k * self.f].reshape(batch, self.k, self.f)
        glob = obs[:, self.k * self.f :].unsqueeze(1).expand(batch, self.k, self.g)
        return mlp_forward(self._layers, torch.cat([cands, glob], dim=2)).squeeze(2)

    def score_actions(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """``forward(obs)[i, actions[i]]`` for each row: only those candidates scored."""
        batch = obs.shape[0]
        cands = obs[:, : self.k * self.f].reshape(batch, self.k, self.f)
        pick = actions.view(batch, 1, 1).expand(batch, 1, self.f)
        taken = cands.gather(1, pick).squeeze(1)
        x = torch.cat([taken, obs[:, self.k * self.f :]], dim=1)
        return mlp_forward(self._layers, x).squeeze(1)

    def engine_scorer(self) -> Any:
        """The engine's compiled ``Scorer`` of these weights as they are now, or None
        when the engine cannot run them (no hidden layer, or weights no longer finite)."""
        from rlcache.engine import Scorer

        try:
            return Scorer([(lin.weight.detach().cpu().numpy(), lin.bias.detach().cpu().numpy())
                           for lin in self._layers])
        except ValueError:  # no hidden layer, or diverged (inf/nan): torch decides
            return None


def build_q_network(cfg: DQNConfig) -> nn.Module:
    """The Q-network the config asks for."""
    if cfg.network == "candidate":
        return CandidateScorer(cfg.action_dim, cfg.candidate_features, cfg.global_features,
                               list(cfg.hidden_sizes))
    return QNetwork(cfg.state_dim, cfg.action_dim, list(cfg.hidden_sizes), cfg.dueling)

