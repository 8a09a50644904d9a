"""A Trainer's full state as a checkpoint payload, and back (what makes resume bit-exact).

:func:`payload` gathers everything a run needs to continue exactly (agent with its replay
buffer, counters, metrics, early-stopping state, every RNG, the configs); :func:`restore`
puts a verified checkpoint's payload back into a Trainer built for the same run.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from rlcache.errors import UserError
from rlcache.training import rng

if TYPE_CHECKING:
    from rlcache.training.checkpoint import LoadedCheckpoint
    from rlcache.training.trainer import Trainer

logger = logging.getLogger("rlcache")

CHECKPOINT_FORMAT = 1
METRIC_LISTS = ("episode_rewards", "episode_lengths", "losses", "epsilons", "q_values")


def payload(trainer: Trainer, exact: bool) -> dict[str, Any]:
    """The checkpoint payload of ``trainer`` now (``exact``: at an episode boundary)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "agent": trainer.agent.state_dict(include_replay=trainer.config.save_replay_buffer),
        "trainer": {
            "episode": trainer.episode,
            "total_steps": trainer.total_steps,
            "best_eval_reward": trainer.best_eval_reward,
            "stopped_early": trainer.stopped_early,
            "first_reset_done": trainer._first_reset_done,
            "elapsed_seconds": trainer._elapsed(),
            "exact": exact,
            "eval_seed": trainer.eval_seed,
            "wandb_id": trainer._wandb_id,
        },
        # One JSON string, not thousands of pickled floats: torch.save pays a
        # per-object callback, which made metrics most of a small run's save time.
        # Python's float repr round-trips exactly, so resume stays bit-exact.
        "metrics": json.dumps({**trainer.metrics, "evaluations": trainer.evaluations}),
        "early_stopping": trainer.early_stopper.state_dict(),
        "rng": {"global": rng.capture_global(), "env": rng.capture_env(trainer.env),
                "spaces": rng.capture_spaces(trainer.env),
                # the other envs of training.num_envs (at a round's end: only RNGs)
                "envs": [{"env": rng.capture_env(e), "spaces": rng.capture_spaces(e)}
                         for e in trainer.envs[1:]]},
        "run_config": trainer.run_config,
        "training_config": trainer.config.to_dict(),
    }


def restore(trainer: Trainer, loaded: LoadedCheckpoint) -> dict[str, Any]:
    """Put ``loaded``'s payload into ``trainer``; returns the checkpoint's JSON metadata.

    A payload that does not fit the agent, or is not a training checkpoint: UserError.
    """
    data = loaded.payload
    try:
        state = data["trainer"]
        metrics = data["metrics"]
        if isinstance(metrics, str):
            metrics = json.loads(metrics)
        es_state = data["early_stopping"]
        rng_state = data["rng"]
        trainer.agent.load_state_dict(data["agent"])
    except UserError as exc:
        raise UserError(f"{loaded.path}: {exc}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise UserError(f"{loaded.path}: does not fit this agent or is not an rlcache "
                        f"training checkpoint ({first})") from None
    _restore_counters(trainer, state)
    trainer.metrics = {name: list(metrics[name]) for name in METRIC_LISTS}
    trainer.evaluations = [dict(e) for e in metrics["evaluations"]]
    trainer.early_stopper.load_state_dict(es_state)
    trainer._pending_rng = rng_state["global"]
    rng.restore_global(rng_state["global"])
    rng.restore_env(trainer.env, rng_state["env"])
    rng.restore_spaces(trainer.env, rng_state.get("spaces"))
    for env, saved in zip(trainer.envs[1:], rng_state.get("envs") or [], strict=False):
        rng.restore_env(env, saved["env"])
        rng.restore_spaces(env, saved.get("spaces"))
    trainer.loaded_from = loaded.path
    trainer._latest_at = None
    if not state.get("exact", True):
        logger.warning("Checkpoint %s was written after an error mid-episode: training "
                       "continues from it, but not bit-exactly", loaded.path)
    if data["agent"].get("replay") is None:
        logger.warning("Checkpoint %s has no replay buffer: the resumed run refills it "
                       "and will not match an uninterrupted one", loaded.path)
    logger.info("Loaded checkpoint %s (episode %d, step %d)", loaded.path, trainer.episode,
                trainer.total_steps)
    return loaded.meta


def _restore_counters(trainer: Trainer, state: dict[str, Any]) -> None:
    trainer.episode = int(state["episode"])
    trainer.total_steps = int(state["total_steps"])
    trainer.best_eval_reward = state["best_eval_reward"]
    trainer.stopped_early = bool(state["stopped_early"])
    trainer._first_reset_done = bool(state["first_reset_done"])
    trainer._elapsed_before = float(state["elapsed_seconds"])
    trainer._wandb_id = state.get("wandb_id")
