"""Policy files for tests, from freshly initialised torch networks (no training)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rlcache.agents.config import DQNConfig
from rlcache.agents.networks import build_q_network
from rlcache.policy.convert import policy_from_checkpoint
from rlcache.policy.file import FEATURE_DIMS, save_policy

CANDIDATES = ["lru", "lfu", "fifo", "mru", "lrfu", "random", "random"]
#: A trained 16-candidate ``extended`` policy (configs/cache_mixed.yaml, seed 0: the
#: ``pretrained`` shipped before the general one, which has ``history`` features): for
#: tests that need a trained policy the compiled engine serves under a time budget.
TRAINED_EXTENDED = Path(__file__).with_name("trained_extended.npz")


def make_policy(path: Path, *, network: str = "candidate", features: str = "extended",
                candidates: list[str] | None = None, dueling: bool = False, seed: int = 0,
                env: dict[str, Any] | None = None) -> tuple[Path, torch.nn.Module]:
    """Write a policy file whose network is torch's init for ``seed``; return it and the net."""
    cands = list(candidates or CANDIDATES)
    f, g = FEATURE_DIMS[features]
    cfg = DQNConfig(state_dim=len(cands) * f + g, action_dim=len(cands), hidden_sizes=[32, 16],
                    network=network, candidate_features=f, global_features=g,
                    dueling=dueling)
    torch.manual_seed(seed)
    net = build_q_network(cfg)
    env_section = {"name": "cache", "workload": "zipf", "requests": 6000, "objects": 600,
                   "cache_size": 60, "features": features, "candidates": cands,
                   "ghost_factor": 2.0, **(env or {})}
    payload = {"run_config": {"env": env_section, "training": {"seed": 0}, "rl": {}},
               "agent": {"config": cfg.to_dict(), "q_net": net.state_dict()}}
    ckpt_meta = {"sha256": "0" * 64, "episode": 3, "total_steps": 99, "eval_reward": 1.0,
                 "kind": "latest"}
    arrays, meta = policy_from_checkpoint(payload, ckpt_meta, "test.pt")
    save_policy(path, arrays, meta)
    return path, net
