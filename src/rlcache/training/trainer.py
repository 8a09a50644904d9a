"""The Trainer: the training loop; after each episode the named steps of ``episode_end``
(record, track, evaluate, early stop, checkpoint, report, plot) run in order.

Checkpoint schedule (files in ``RUN/checkpoints``):

- ``latest``: after every evaluation, with every regular checkpoint, at the end of
  ``train()`` and on an interrupt; so it is never older than the last evaluation.
- ``best``: when an evaluation's mean reward beats the best so far.
- ``checkpoint_ep{N}``: every ``checkpoint_frequency`` episodes (and at every evaluation
  when ``save_best_only`` is False); only the newest ``keep_last`` are kept.
- ``emergency``: on SIGINT / SIGTERM (exact, at the end of the current episode) or on
  an exception (the state at that instant, marked ``"exact": false``).

Every checkpoint holds the full state (agent with replay buffer, counters, metrics,
early-stopping state, all RNG states, configs), so any of them can resume a run.
Evaluation uses its own env and fixed seeds, and restores the global RNGs afterwards, so
neither evaluating nor checkpointing changes what training does next: a resumed run
equals an uninterrupted one, episode for episode and weight for weight.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rlcache.errors import UserError
from rlcache.evaluation import episode_stats, greedy_episodes
from rlcache.serialization import atomic_write_text
from rlcache.training import checkpoint as ckpt
from rlcache.training import episode_end, interrupts, rng, run_state, vector
from rlcache.training.config import TrainingConfig
from rlcache.training.early_stopping import EarlyStopping
from rlcache.training.progress import ProgressReporter, format_duration, format_score, setup_logging
from rlcache.training.run_state import CHECKPOINT_FORMAT, METRIC_LISTS  # noqa: F401

logger = logging.getLogger("rlcache")

EVAL_SEED_OFFSET = 10_000


class Trainer:
    """Trains ``agent`` on ``env`` under ``config``, writing the run into ``output_dir``.

    ``eval_env`` defaults to a deep copy of ``env`` made here, before any reset.
    ``run_config`` is the resolved ``{"training", "rl", "env"}`` dict written to
    ``config.yaml`` and embedded in every checkpoint (built from the configs if None).
    ``on_evaluation`` is called with a copy of each evaluation entry once its
    checkpoints are written (the sweep reports through it).
    """

    def __init__(self, agent: Any, env: Any, config: TrainingConfig,
                 output_dir: str | Path, eval_env: Any = None,
                 run_config: dict[str, Any] | None = None,
                 on_evaluation: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.agent = agent
        self.env = env
        self.on_evaluation = on_evaluation
        self.config = config.validate()
        self.output_dir = Path(output_dir)
        self.checkpoint_dir = self.output_dir / config.checkpoint_dir
        self.log_file = self.output_dir / "logs" / "training.log"
        self.metrics_file = self.output_dir / "metrics.json"
        self.plot_file = self.output_dir / "training_curves.png"
        if eval_env is None:
            try:
                eval_env = copy.deepcopy(env)
            except Exception as exc:
                raise TypeError(f"cannot copy the env for evaluation ({exc}); "
                                f"pass eval_env= explicitly") from exc
        self.eval_env = eval_env
        #: ``env`` and ``num_envs - 1`` copies of it (made before any reset)
        self.envs = [env, *(copy.deepcopy(env) for _ in range(self.config.num_envs - 1))]
        self.run_config = run_config if run_config is not None else self._default_run_config()
        self.eval_seed = (config.seed if config.seed is not None else 0) + EVAL_SEED_OFFSET

        self.metrics: dict[str, list[Any]] = {name: [] for name in METRIC_LISTS}
        self.evaluations: list[dict[str, Any]] = []
        self.episode = 0
        self.total_steps = 0
        self.best_eval_reward: float | None = None
        self.stopped_early = False
        self.early_stopper = EarlyStopping(config.early_stopping, config.patience,
                                           config.min_delta, config.min_episodes)
        self.loaded_from: Path | None = None
        self._first_reset_done = False
        self._has_trained = False
        self._plotted: tuple[int, int, int] | None = None  # state training_curves.png shows
        self._pending_rng: dict[str, Any] | None = None
        self._elapsed_before = 0.0
        self._session_start: float | None = None
        self._latest_at: tuple[int, int] | None = None
        self._wandb_id: str | None = None
        self._signals = interrupts.SignalFlag()
        self._progress: ProgressReporter | None = None
        self._tracker: Any = None

    # ------------------------------------------------------------------ main loop

    def train(self) -> dict[str, Any]:
        """Train until max_episodes, the step budget or early stopping; final statistics.

        A fresh run (no ``load_checkpoint`` before) refuses an output folder whose
        checkpoints folder already holds a completed checkpoint (a ``.pt`` with its JSON),
        before writing anything; a lone ``.pt`` (a first save cut short) is overwritten.
        """
        if (self.loaded_from is None and not self._has_trained
                and ckpt.completed_checkpoints(self.checkpoint_dir)):
            raise UserError(f"{self.output_dir}: holds another run (checkpoints in "
                            f"{self.checkpoint_dir}); pass --resume or choose another --output")
        undo_logging = self._open_session()
        in_loop = False
        try:
            self._start_training()
            in_loop = True
            while not self._finished():
                if self.config.num_envs > 1:
                    episode_end.run_round(self, vector.run_round(self))
                else:
                    self._end_episode(self._run_episode())
                if self._signals.signum is not None:
                    interrupts.stop_for_signal(self, self._signals.signum)
            return self._finish_training()
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if in_loop:  # a failure before the first episode has nothing to save
                interrupts.save_after_exception(self, exc)
            raise
        finally:
            self._close_session(undo_logging)

    def _open_session(self) -> Callable[[], None]:
        """Folder, signal handlers, config.yaml, progress and log file; returns the log undo."""
        cfg = self.config
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        finished = ckpt.finish_interrupted_saves(self.checkpoint_dir)
        # Take over SIGINT / SIGTERM before the first write of this session, so a signal
        # from here on ends the run at an episode boundary with an emergency checkpoint.
        self._signals.install()
        try:
            atomic_write_text(self.output_dir / "config.yaml",
                              yaml.safe_dump(self.run_config, sort_keys=False))
            self._progress = ProgressReporter(
                max_episodes=cfg.max_episodes, max_total_steps=cfg.max_total_steps,
                start_episode=self.episode, start_steps=self.total_steps,
                log_frequency=cfg.log_frequency, verbose=cfg.verbose)
            undo_logging = setup_logging(self.log_file, cfg.verbose,
                                         self._progress.console_handler)
        except BaseException:
            self._signals.restore()
            raise
        for slot in finished:
            logger.info("Finished the save of %s that a crash had cut short", slot.name)
        self._session_start = time.perf_counter()
        return undo_logging

    def _start_training(self) -> None:
        """Tracker, the global RNGs (restored or seeded), the opening log line."""
        cfg = self.config
        self._tracker = self._make_tracker()
        if self._pending_rng is not None:
            rng.restore_global(self._pending_rng)
            self._pending_rng = None
        elif cfg.seed is not None and not self._first_reset_done:
            rng.seed_everything(cfg.seed)
        self._has_trained = True
        if self.stopped_early and not cfg.early_stopping:
            self.stopped_early = self.early_stopper.stopped = False
        logger.info("%s training at episode %d, step %d -> %s (max_episodes %d%s)",
                    "Resuming" if self.loaded_from else "Starting", self.episode,
                    self.total_steps, self.output_dir, cfg.max_episodes,
                    f", max_total_steps {cfg.max_total_steps}" if cfg.max_total_steps
                    else "")

    def _finish_training(self) -> dict[str, Any]:
        """The last latest checkpoint (if behind), metrics, plot; the final statistics."""
        if self._latest_at != (self.episode, self.total_steps):
            self._save_checkpoint("latest")
        self._write_metrics()
        self.plot_training_curves()
        stats = self._final_stats()
        logger.info("Training finished: %d episodes, %d steps, best eval %s, %s%s",
                    self.episode, self.total_steps, format_score(self.best_eval_reward),
                    format_duration(stats["elapsed_seconds"]),
                    " (stopped early)" if self.stopped_early else "")
        return stats

    def _close_session(self, undo_logging: Callable[[], None]) -> None:
        """Signal handlers back, the session's time banked, tracker, progress, log closed."""
        self._signals.restore()
        self._elapsed_before = self._elapsed()
        self._session_start = None
        if self._tracker is not None:
            with rng.preserved_global_rng():
                self._tracker.close()
            self._tracker = None
        self._progress.close()
        undo_logging()

    def _finished(self) -> bool:
        cfg = self.config
        return (self.episode >= cfg.max_episodes or self.stopped_early
                or (cfg.max_total_steps is not None and self.total_steps >= cfg.max_total_steps))

    def _run_episode(self) -> dict[str, Any]:
        """One training episode, learning after every step.

        It continues the env's RNG (only the run's very first reset uses ``config.seed``).
        """
        cfg = self.config
        env, agent = self.env, self.agent
        if self._first_reset_done:
            obs, _ = env.reset()
        else:
            obs, _ = env.reset(seed=cfg.seed)
            self._first_reset_done = True
        limit = cfg.max_steps_per_episode
        if cfg.max_total_steps is not None:
            limit = min(limit, cfg.max_total_steps - self.total_steps)
        select, store, learn, step = (agent.select_action, agent.store_transition,
                                      agent.train_step, env.step)
        full = getattr(getattr(agent, "config", None), "full_information", False)
        ep_reward = 0.0
        loss_sum = q_sum = 0.0
        updates = 0
        t = 0
        while True:
            action = select(obs)
            next_obs, reward, terminated, truncated, info = step(action)
            t += 1
            if t >= limit:
                truncated = True
            if full:  # every action's reward (rl.full_information, env.action_rewards)
                store(obs, action, reward, next_obs, terminated, truncated,
                      action_rewards=info.get("action_rewards"))
            else:
                store(obs, action, reward, next_obs, terminated, truncated)
            out = learn()
            if out is not None:
                loss_sum += out["loss"]
                q_sum += out["q_mean"]
                updates += 1
            ep_reward += reward
            if terminated or truncated:
                break
            obs = next_obs
        self.total_steps += t
        return {"reward": float(ep_reward), "length": t,
                "loss": float(loss_sum) / updates if updates else None,
                "q_mean": float(q_sum) / updates if updates else None}

    def _end_episode(self, result: dict[str, Any]) -> None:
        """Run the named end-of-episode steps (``episode_end.END_OF_EPISODE``) in order."""
        episode_end.run(self, result)

    # ------------------------------------------------------------------ evaluation

    def evaluate_only(self, num_episodes: int | None = None) -> dict[str, Any]:
        """Evaluate the agent as it is now; writes nothing (no checkpoint, no metrics)."""
        if num_episodes is not None and (not isinstance(num_episodes, int)
                                         or isinstance(num_episodes, bool) or num_episodes <= 0):
            raise UserError(f"eval episodes: expected a positive integer, got {num_episodes!r}")
        n = num_episodes or self.config.eval_episodes
        stats = self._eval_stats(n)
        logger.info("Evaluation of %d episodes: mean %.2f ± %.2f (min %.2f, max %.2f)%s",
                    n, stats["mean_reward"], stats["std_reward"], stats["min_reward"],
                    stats["max_reward"],
                    f", hit ratio {stats['hit_ratio']:.4f}" if "hit_ratio" in stats else "")
        return stats

    def _eval_stats(self, n: int) -> dict[str, Any]:
        with rng.preserved_global_rng():
            # Evaluation episodes run on eval_env, each reset with its own fixed seed.
            results = greedy_episodes(self.eval_env, self.agent,
                                      [self.eval_seed + i for i in range(n)],
                                      self.config.max_steps_per_episode)
        return {**episode_stats(results), "trained_episodes": self.episode,
                "trained_steps": self.total_steps}

    # ------------------------------------------------------------------ checkpoints

    def _save_checkpoint(self, kind: str | Sequence[str], eval_reward: float | None = None,
                         exact: bool = True) -> list[Path]:
        """Write the full state into the slot(s) ``kind`` (best/latest/regular/emergency).

        One serialisation serves every slot; each ``.pt`` is atomic and its JSON comes
        last. Regular checkpoints are rotated (``keep_last``) after the new one is safe.
        Also refreshes ``metrics.json``.
        """
        kinds = [kind] if isinstance(kind, str) else list(kind)
        return episode_end.save_checkpoint(self, kinds, eval_reward, exact)

    def load_checkpoint(self, path: str | Path | ckpt.LoadedCheckpoint) -> dict[str, Any]:
        """Restore the full training state from ``path`` (a .pt, a checkpoints or run folder).

        A damaged file is skipped with a warning naming it, and the newest intact
        checkpoint is used; none intact, or a payload that needs pickle: UserError.
        An already verified ``LoadedCheckpoint`` is used as it is (no second read).
        Returns the checkpoint's JSON metadata.
        """
        if isinstance(path, ckpt.LoadedCheckpoint):
            loaded = path
        else:
            loaded = ckpt.load_newest_intact(path, self.config.checkpoint_dir)
        return run_state.restore(self, loaded)

    # ------------------------------------------------------------------ plots

    def plot_training_curves(self) -> Path | None:
        """Redraw ``training_curves.png``; a plotting failure is logged, never fatal.

        Skipped when the file already shows this state: the end of a run whose last
        episode drew the periodic plot would otherwise draw the same picture twice
        (~0.3 s, a tenth of a short run).
        """
        return episode_end.draw_curves(self)

    # ------------------------------------------------------------------ bookkeeping

    def metrics_dict(self) -> dict[str, Any]:
        """The ``metrics.json`` content (contract keys)."""
        return {**{name: self.metrics[name] for name in METRIC_LISTS},
                "evaluations": self.evaluations,
                "total_episodes": self.episode,
                "total_steps": self.total_steps,
                "best_eval_reward": self.best_eval_reward,
                "elapsed_seconds": round(self._elapsed(), 3),
                "stopped_early": self.stopped_early}

    def _write_metrics(self) -> None:
        atomic_write_text(self.metrics_file, json.dumps(self.metrics_dict()) + "\n")

    def _elapsed(self) -> float:
        if self._session_start is None:
            return self._elapsed_before
        return self._elapsed_before + time.perf_counter() - self._session_start

    def _final_stats(self) -> dict[str, Any]:
        rewards = self.metrics["episode_rewards"][-100:]
        best = self.checkpoint_dir / "best.pt"
        return {
            "total_episodes": self.episode,
            "total_steps": self.total_steps,
            "best_eval_reward": self.best_eval_reward,
            "last_evaluation": self.evaluations[-1] if self.evaluations else None,
            "mean_reward_last_100": float(np.mean(rewards)) if rewards else None,
            "stopped_early": self.stopped_early,
            "elapsed_seconds": self._elapsed(),
            "output_dir": str(self.output_dir),
            "latest_checkpoint": str(self.checkpoint_dir / "latest.pt"),
            "best_checkpoint": str(best) if best.exists() else None,
        }

    def _default_run_config(self) -> dict[str, Any]:
        spec = getattr(self.env, "spec", None)
        name = getattr(spec, "id", None) or type(getattr(self.env, "unwrapped", self.env)).__name__
        agent_cfg = getattr(self.agent, "config", None)
        return {"training": self.config.to_dict(),
                "rl": agent_cfg.to_dict() if hasattr(agent_cfg, "to_dict") else {},
                "env": {"name": name}}

    def _make_tracker(self) -> Any:
        cfg = self.config
        if not (cfg.use_wandb or cfg.use_tensorboard):
            return None
        from rlcache.training.tracking import Tracker

        with rng.preserved_global_rng():
            tracker = Tracker(use_wandb=cfg.use_wandb, use_tensorboard=cfg.use_tensorboard,
                              output_dir=self.output_dir, run_config=self.run_config,
                              project=cfg.wandb_project, resume_id=self._wandb_id)
        self._wandb_id = tracker.wandb_id or self._wandb_id
        return tracker
