"""A verified training checkpoint -> the arrays and metadata of a policy file."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from rlcache.errors import UserError
from rlcache.policy.file import DECISION_KEYS

_LINEAR = re.compile(r"^(body|scorer)\.(\d+)\.(weight|bias)$")


def _numpy(value: Any) -> np.ndarray:
    # A tensor from a weights-only load; .numpy() needs no torch import here.
    return np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value,
                      dtype=np.float32)


def network_arrays(q_net: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """``layer{i}.weight/bias`` (+ ``value0``/``advantage0``) from a Q-network state_dict."""
    linear: dict[int, dict[str, np.ndarray]] = {}
    out: dict[str, np.ndarray] = {}
    for key, value in q_net.items():
        match = _LINEAR.match(key)
        if match:
            linear.setdefault(int(match.group(2)), {})[match.group(3)] = _numpy(value)
        elif key.split(".")[0] in ("value", "advantage"):
            head, kind = key.split(".", 1)
            out[f"{head}0.{kind}"] = _numpy(value)
        else:
            raise UserError(f"checkpoint network has an unexpected tensor {key!r}")
    for i, index in enumerate(sorted(linear)):
        for kind, arr in linear[index].items():
            out[f"layer{i}.{kind}"] = arr
    return out


def policy_from_checkpoint(payload: Mapping[str, Any], meta: Mapping[str, Any],
                           source: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and metadata of the policy in a loaded cache-env checkpoint."""
    from rlcache.envs.cache_env import CacheEnvConfig

    run_config = dict(payload["run_config"])
    env = dict(run_config.get("env") or {})
    if env.get("name") != "cache":
        raise UserError(f"{source}: a policy file is for the cache env; this checkpoint "
                        f"trained on {env.get('name')!r}")
    env_cfg = CacheEnvConfig.from_kwargs(**{k: v for k, v in env.items() if k != "name"})
    agent = payload["agent"]
    cfg = dict(agent["config"])
    k = len(env_cfg.candidates)
    if cfg.get("action_dim") != k:
        raise UserError(f"{source}: the agent has {cfg.get('action_dim')} actions but its env "
                        f"{k} candidates")
    network: dict[str, Any] = {"type": cfg.get("network", "mlp"),
                               "hidden_sizes": list(cfg.get("hidden_sizes", [])),
                               "state_dim": cfg.get("state_dim"), "action_dim": k}
    if network["type"] == "candidate":
        network["candidate_features"] = cfg.get("candidate_features")
        network["global_features"] = cfg.get("global_features")
    else:
        network["dueling"] = bool(cfg.get("dueling"))
    decisions = {key: getattr(env_cfg, key) for key in DECISION_KEYS}
    decisions["candidates"] = list(env_cfg.candidates)
    training = {"checkpoint": source, "checkpoint_sha256": meta.get("sha256"),
                "episode": meta.get("episode"), "total_steps": meta.get("total_steps"),
                "eval_reward": meta.get("eval_reward"), "kind": meta.get("kind"),
                "run_config": run_config}
    out_meta = {"network": network, "decisions": decisions, "env": env,
                "training": training,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    return network_arrays(agent["q_net"]), out_meta
