"""The one place that builds envs, agents and trainers from a RunConfig.

The CLI, ``scripts/train.py``, the examples and the sweep all call these, so a run
started any of those ways is built the same way. Resuming goes through here too:
:func:`resolve_resume` finds the checkpoint, :func:`check_checkpoint_matches` refuses
one from another observation or action size before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gymnasium import spaces

from rlcache.config import RL_FROM_ENV, SECTIONS, RunConfig
from rlcache.errors import UserError

if TYPE_CHECKING:
    import gymnasium as gym

    from rlcache.agents import DQNAgent
    from rlcache.training import Trainer
    from rlcache.training.checkpoint import LoadedCheckpoint

RUN_MARKERS = ("config.yaml", "metrics.json", "logs/training.log")
"""Files whose presence means a folder holds a run."""


# --------------------------------------------------------------------------- env / agent


def build_env(run_config: RunConfig, seed: int | None = None) -> gym.Env:
    """The env named in ``run_config.env`` with its keyword arguments; spaces seeded."""
    from rlcache.envs import make_env

    env = make_env(run_config.env_name, **run_config.env_kwargs)
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
    config = run_config.dqn_config(state_dim, action_dim)
    config.exploration_steps = exploration_steps(run_config)
    return DQNAgent(config)


def observation_layout(run_config: RunConfig, env: gym.Env) -> None:
    """Take ``rl.candidate_features`` / ``rl.global_features`` from the env (as the sizes).

    An env whose observation is K candidate blocks plus globals says how long each part
    is; a config need not repeat it (an old one that does still loads; the env wins), and
    the resolved config records the env's values.
    """
    inner = getattr(env, "unwrapped", env)
    for name in ("candidate_features", "global_features"):
        value = getattr(inner, name, None)
        if value is not None:
            run_config.rl[name] = int(value)


def check_buildable(run_config: RunConfig) -> tuple[int, int]:
    """Build the env and check the agent config against it without allocating the agent.

    What ``--dry-run`` runs: unknown env arguments, sizes and the step budget all fail
    here as they would in a real run. Returns ``(state_dim, action_dim)``.
    """
    env = build_env(run_config)
    try:
        dims = env_dims(env, run_config.env_name)
        observation_layout(run_config, env)
        config = run_config.dqn_config(*dims)
        config.exploration_steps = exploration_steps(run_config)
        config.validate()
        check_optional_packages(run_config)
    finally:
        env.close()
    return dims


# --------------------------------------------------------------------------- checkpoints


def checkpoint_run_dir(path: str | os.PathLike[str], checkpoint_dir: str = "checkpoints") -> Path:
    """The run folder a checkpoint file (or checkpoints folder, or run folder) belongs to."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    if folder.name == checkpoint_dir or ((folder / "latest.json").exists() and \
            not (folder / checkpoint_dir).is_dir()):
        return folder.parent
    return folder


def holds_run(folder: str | os.PathLike[str], checkpoint_dir: str = "checkpoints") -> bool:
    """True if ``folder`` already holds a run (its config, metrics, log or checkpoints)."""
    root = Path(folder)
    if any((root / marker).exists() for marker in RUN_MARKERS):
        return True
    ckpts = root / checkpoint_dir
    return ckpts.is_dir() and any(p.suffix in (".pt", ".json") for p in ckpts.iterdir())


def load_checkpoint(path: str | os.PathLike[str],
                    checkpoint_dir: str = "checkpoints") -> LoadedCheckpoint:
    """A verified checkpoint (file, checkpoints folder or run folder; newest intact)."""
    from rlcache.training.checkpoint import load_newest_intact

    if not Path(path).exists():
        raise UserError(f"{path}: checkpoint not found")
    loaded = load_newest_intact(path, checkpoint_dir)
    if not isinstance(loaded.payload.get("run_config"), Mapping):
        raise UserError(f"{loaded.path}: checkpoint has no embedded run config")
    return loaded


def resolve_resume(path_or_auto: str | os.PathLike[str] | None,
                   output_dir: str | os.PathLike[str] | None,
                   checkpoint_dir: str = "checkpoints") -> LoadedCheckpoint | None:
    """The checkpoint to resume from: a path, or ``auto`` (newest intact in the output
    folder, None when no save there ever completed), or None when not resuming."""
    if path_or_auto is None:
        return None
    if str(path_or_auto) == "auto":
        if output_dir is None:
            raise UserError("--resume auto: needs --output DIR, the run folder to resume")
        from rlcache.training.checkpoint import completed_checkpoints

        # A run killed before its first save completed has nothing to lose: start afresh.
        if not completed_checkpoints(Path(output_dir) / checkpoint_dir):
            return None
        return load_checkpoint(output_dir, checkpoint_dir)
    if not Path(path_or_auto).exists():
        raise UserError(f"--resume {path_or_auto}: checkpoint not found")
    return load_checkpoint(path_or_auto, checkpoint_dir)


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


def checkpoint_run_config(loaded: LoadedCheckpoint) -> RunConfig:
    """The resolved config embedded in a checkpoint, as a RunConfig."""
    data = {k: dict(v) if isinstance(v, Mapping) else v
            for k, v in loaded.payload["run_config"].items()}
    for name in RL_FROM_ENV:  # a Trainer built without a RunConfig records them
        data.get("rl", {}).pop(name, None)
    extra = tuple(k for k in data if k not in SECTIONS)
    return RunConfig.from_dict(data, f"{loaded.path} (run config)", extra_sections=extra)


def pin_schedule(run_config: RunConfig, loaded: LoadedCheckpoint) -> RunConfig:
    """Keep a resumed run's epsilon schedule when only its step budget changed."""
    old = checkpoint_run_config(loaded)
    fraction = run_config.rl.get("exploration_fraction")
    if fraction is not None and fraction == old.rl.get("exploration_fraction") and \
            run_config.training.max_total_steps != old.training.max_total_steps:
        run_config.rl["exploration_steps"] = exploration_steps(old)
        run_config.rl["exploration_fraction"] = None
    return run_config


def episodes_done(loaded: LoadedCheckpoint) -> int:
    """Training episodes a checkpoint has completed."""
    return int(loaded.meta["episode"])


def finished_reason(loaded: LoadedCheckpoint, run_config: RunConfig) -> str | None:
    """Why resuming ``loaded`` under ``run_config`` would train nothing, or None."""
    episode, steps = int(loaded.meta["episode"]), int(loaded.meta["total_steps"])
    training = run_config.training
    if episode >= training.max_episodes:
        return (f"already at episode {episode} of {training.max_episodes} "
                f"(raise --episodes to continue)")
    if training.max_total_steps is not None and steps >= training.max_total_steps:
        return (f"already at step {steps} of {training.max_total_steps} "
                f"(raise --steps to continue)")
    state = loaded.payload.get("trainer", {})
    if training.early_stopping and state.get("stopped_early"):
        return (f"stopped early at episode {episode} "
                f"(--set training.early_stopping=false to continue)")
    return None


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
