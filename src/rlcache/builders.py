"""The one place that builds envs, agents and trainers from a RunConfig.

The CLI, ``scripts/train.py``, the examples and the sweep all call these, so a run
started any of those ways is built the same way. Finding and choosing the checkpoint to
resume is :mod:`rlcache.runs`; here :func:`check_checkpoint_matches` refuses one from
another observation or action size before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gymnasium import spaces

from rlcache.config import RunConfig
from rlcache.errors import UserError

if TYPE_CHECKING:
    import gymnasium as gym

    from rlcache.agents import DQNAgent
    from rlcache.training import Trainer
    from rlcache.training.checkpoint import LoadedCheckpoint

# --------------------------------------------------------------------------- env / agent


def build_env(run_config: RunConfig, seed: int | None = None) -> gym.Env:
    """The env named in ``run_config.env`` with its keyword arguments; spaces seeded.

    An env registered with a typed config is built from ``run_config.env_config()``,
    the section converted and validated when the config was loaded.
    """
    from rlcache.envs.registry import make_env, make_typed_env

    mode = run_config.env.get("render_mode")
    if mode is not None:
        # Gymnasium checks render_mode only when it first renders, deep inside training.
        raise UserError(f"env.render_mode: rlcache trains and evaluates without rendering; "
                        f"expected null, got {mode!r}")
    typed = run_config.env_config()
    env = (make_env(run_config.env_name, **run_config.env_kwargs) if typed is None
           else make_typed_env(run_config.env_name, typed))
    if seed is not None:
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
    return env


def env_dims(env: gym.Env, name: str = "env") -> tuple[int, int]:
    """``(state_dim, action_dim)`` of a flat Box observation and a Discrete action space."""
    obs, act = env.observation_space, env.action_space
    if not isinstance(act, spaces.Discrete):
        raise UserError(f"env {name}: DQN needs a discrete action space, got {act}")
    if not isinstance(obs, spaces.Box) or len(obs.shape) != 1:
        raise UserError(f"env {name}: DQN needs a flat Box observation, got {obs}")
    return int(obs.shape[0]), int(act.n)


def exploration_steps(run_config: RunConfig) -> int:
    """Env steps of the epsilon decay: a fraction of the step budget, or rl.exploration_steps."""
    fraction = run_config.rl.get("exploration_fraction")
    if fraction is None:
        return int(run_config.rl["exploration_steps"])
    run_config.check_exploration_budget()
    return max(1, round(fraction * run_config.training.max_total_steps))


def build_agent(run_config: RunConfig, env: gym.Env) -> DQNAgent:
    """A DQN / Double DQN agent sized for ``env``; seeded from training.seed unless rl.seed."""
    from rlcache.agents import DQNAgent

    state_dim, action_dim = env_dims(env, run_config.env_name)
    observation_layout(run_config, env)
    check_device(run_config)
    config = run_config.dqn_config(state_dim, action_dim)
    config.exploration_steps = exploration_steps(run_config)
    return DQNAgent(config)


def observation_layout(run_config: RunConfig, env: Any) -> None:
    """Take ``rl.candidate_features`` / ``rl.global_features`` from the env (as the sizes).

    An env (or its typed config) whose observation is K candidate blocks plus globals
    says how long each part is; a config need not repeat it (an old one that does still
    loads; the env wins), and the resolved config records the env's values.
    """
    inner = getattr(env, "unwrapped", env)
    for name in ("candidate_features", "global_features"):
        value = getattr(inner, name, None)
        if value is not None:
            run_config.rl[name] = int(value)


def check_device(run_config: RunConfig) -> None:
    """UserError unless ``rl.device`` names a device this machine has."""
    device = str(run_config.rl.get("device", "auto"))
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise UserError(f"rl.device: {device} is not available here (no CUDA device "
                            f"torch can use); use auto or cpu")
        index = device.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise UserError(f"rl.device: {device}: this machine has "
                            f"{torch.cuda.device_count()} CUDA device(s)")


def check_buildable(run_config: RunConfig) -> tuple[int, int]:
    """Check the agent config against the env's sizes without allocating the agent.

    What ``--dry-run`` runs: env arguments, sizes and the step budget all fail here as
    they would in a real run. An env with a typed config (the cache env) is not built:
    its config gives the sizes, so no trace is read. Returns ``(state_dim, action_dim)``.
    """
    typed = run_config.env_config()
    if typed is not None:
        return _check_agent(run_config, typed.observation_dims, typed)
    env = build_env(run_config)
    try:
        return _check_agent(run_config, env_dims(env, run_config.env_name), env)
    finally:
        env.close()


def _check_agent(run_config: RunConfig, dims: tuple[int, int], layout: Any) -> tuple[int, int]:
    observation_layout(run_config, layout)
    config = run_config.dqn_config(*dims)
    config.exploration_steps = exploration_steps(run_config)
    config.validate()
    check_device(run_config)
    check_optional_packages(run_config)
    return dims


# --------------------------------------------------------------------------- checkpoints


def checkpoint_dims(payload: Mapping[str, Any]) -> tuple[int, int]:
    """``(state_dim, action_dim)`` the checkpointed agent was built for."""
    try:
        config = payload["agent"]["config"]
        return int(config["state_dim"]), int(config["action_dim"])
    except (KeyError, TypeError, ValueError):
        raise UserError("checkpoint does not record the agent's observation and action "
                        "sizes") from None


def check_checkpoint_matches(loaded: LoadedCheckpoint, env: gym.Env, env_name: str) -> None:
    """UserError unless the checkpoint's observation and action sizes match ``env``."""
    have = checkpoint_dims(loaded.payload)
    need = env_dims(env, env_name)
    for label, saved, wanted in zip(("observation", "action"), have, need, strict=True):
        if saved != wanted:
            raise UserError(f"{loaded.path}: checkpoint {label} size {saved} does not match "
                            f"env {env_name} ({label} size {wanted})")


# --------------------------------------------------------------------------- trainer


def check_optional_packages(run_config: RunConfig) -> None:
    """UserError now, before anything is written, if an enabled tracker is not installed."""
    import importlib.util

    needs = (("use_wandb", "wandb", "wandb"), ("use_tensorboard", "tensorboard", "tensorboard"))
    for flag, module, extra in needs:
        if getattr(run_config.training, flag) and importlib.util.find_spec(module) is None:
            raise UserError(f"training.{flag}: {module} is not installed "
                            f"(pip install 'rlcache[{extra}]')")
    if run_config.training.use_wandb and not _wandb_can_log():
        raise UserError("training.use_wandb: no Weights & Biases credentials; set "
                        "WANDB_API_KEY, run `wandb login`, or set WANDB_MODE=offline")


def _wandb_can_log() -> bool:
    """Whether wandb.init can start without asking for a key (which would need a TTY)."""
    if os.environ.get("WANDB_MODE", "").lower() in ("offline", "disabled", "dryrun"):
        return True
    if os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        return "api.wandb.ai" in netrc.read_text()
    except OSError:
        return False


def build_trainer(run_config: RunConfig, output_dir: str | os.PathLike[str],
                  resume: LoadedCheckpoint | None = None) -> Trainer:
    """Env, evaluation env, agent and Trainer for ``run_config``; loads ``resume`` if given.

    The checkpoint's sizes are checked against the env before the Trainer (which
    creates the run folder) exists.
    """
    from rlcache.training import Trainer
    from rlcache.training.trainer import EVAL_SEED_OFFSET

    check_optional_packages(run_config)
    seed = run_config.training.seed
    env = build_env(run_config, seed)
    if resume is not None:
        check_checkpoint_matches(resume, env, run_config.env_name)
    agent = build_agent(run_config, env)
    eval_env = build_env(run_config, None if seed is None else seed + EVAL_SEED_OFFSET)
    # A cache env with a held-out validation slice evaluates (chooses best.pt) on it.
    eval_env = getattr(eval_env, "validation_env", lambda: None)() or eval_env
    trainer = Trainer(agent, env, run_config.training, output_dir, eval_env=eval_env,
                      run_config=run_config.to_dict())
    if resume is not None:
        trainer.load_checkpoint(resume)
    return trainer
