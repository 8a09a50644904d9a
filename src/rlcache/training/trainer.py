"""The Trainer: runs episodes, evaluates, checkpoints, stops early, survives interrupts.

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
from rlcache.evaluation import episode_stats, run_episode
from rlcache.serialization import atomic_write_text
from rlcache.training import checkpoint as ckpt
from rlcache.training import interrupts, rng, run_state
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
        cfg = self.config
        if (self.loaded_from is None and not self._has_trained
                and ckpt.completed_checkpoints(self.checkpoint_dir)):
            raise UserError(f"{self.output_dir}: holds another run (checkpoints in "
                            f"{self.checkpoint_dir}); pass --resume or choose another --output")
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
        in_loop = False
        try:
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
            in_loop = True
            while not self._finished():
                result = self._run_episode()
                self._end_episode(result)
                if self._signals.signum is not None:
                    interrupts.stop_for_signal(self, self._signals.signum)
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
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if in_loop:  # a failure before the first episode has nothing to save
                interrupts.save_after_exception(self, exc)
            raise
        finally:
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

    def _run_episode(self, evaluate: bool = False, seed: int | None = None) -> dict[str, Any]:
        """One episode: a training one (learning after every step) or a greedy one.

        Training episodes continue the env's RNG (only the run's very first reset uses
        ``config.seed``); evaluation episodes run on ``eval_env`` reset with ``seed``.
        """
        if evaluate:
            return self._run_eval_episode(seed)
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
        ep_reward = 0.0
        loss_sum = q_sum = 0.0
        updates = 0
        t = 0
        while True:
            action = select(obs)
            next_obs, reward, terminated, truncated, _ = step(action)
            t += 1
            if t >= limit:
                truncated = True
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

    def _run_eval_episode(self, seed: int | None) -> dict[str, Any]:
        return run_episode(self.eval_env, self.agent.select_action, seed,
                           self.config.max_steps_per_episode)

    #: What happens after every training episode, in this order (``_step_<name>``).
    END_OF_EPISODE = ("record", "track", "evaluate", "early_stop", "checkpoint", "report",
                      "plot")

    def _end_episode(self, result: dict[str, Any]) -> None:
        """Record an episode, then run the named end-of-episode steps in order."""
        done: dict[str, Any] = {"result": result, "kinds": [], "entry": None}
        for name in self.END_OF_EPISODE:
            getattr(self, f"_step_{name}")(done)

    def _step_record(self, done: dict[str, Any]) -> None:
        """Append the episode's metrics, count it, log progress."""
        result, m = done["result"], self.metrics
        done["epsilon"] = epsilon = float(self.agent.get_metrics()["epsilon"])
        m["episode_rewards"].append(result["reward"])
        m["episode_lengths"].append(result["length"])
        m["losses"].append(result["loss"])
        m["epsilons"].append(epsilon)
        m["q_values"].append(result["q_mean"])
        self.episode += 1
        self._log_progress()

    def _step_track(self, done: dict[str, Any]) -> None:
        """Send the episode to the tracker (W&B / TensorBoard), if any."""
        if self._tracker is None:
            return
        result = done["result"]
        with rng.preserved_global_rng():
            self._tracker.log({"train/reward": result["reward"],
                               "train/length": result["length"],
                               "train/loss": result["loss"],
                               "train/q_mean": result["q_mean"],
                               "train/epsilon": done["epsilon"]}, step=self.episode)

    def _step_evaluate(self, done: dict[str, Any]) -> None:
        """Every ``eval_frequency`` episodes: greedy evaluation, best reward, its slots."""
        cfg = self.config
        if self.episode % cfg.eval_frequency:
            return
        done["entry"] = entry = self._evaluate()
        self.evaluations.append(entry)
        reward = entry["mean_reward"]
        improved = self.best_eval_reward is None or reward > self.best_eval_reward
        if improved:
            self.best_eval_reward = reward
        done["kinds"] += ["latest", *(["best"] if improved else []),
                          *(["regular"] if not cfg.save_best_only else [])]

    def _step_early_stop(self, done: dict[str, Any]) -> None:
        """After an evaluation: update early stopping, then log the evaluation."""
        entry = done["entry"]
        if entry is None:
            return
        self.early_stopper.update(self.episode, entry["mean_reward"])
        self.stopped_early = self._should_stop_early()
        self._log_evaluation(entry)

    def _step_checkpoint(self, done: dict[str, Any]) -> None:
        """Save the due slots (evaluation's, and ``checkpoint_frequency``'s)."""
        kinds = done["kinds"]
        if self.episode % self.config.checkpoint_frequency == 0:
            kinds += [k for k in ("latest", "regular") if k not in kinds]
        if kinds:
            entry = done["entry"]
            self._save_checkpoint(kinds, eval_reward=None if entry is None
                                  else entry["mean_reward"])

    def _step_report(self, done: dict[str, Any]) -> None:
        """Hand the evaluation (its checkpoints written) to ``on_evaluation``."""
        if done["entry"] is not None and self.on_evaluation is not None:
            with rng.preserved_global_rng():
                self.on_evaluation(dict(self.evaluations[-1]))

    def _step_plot(self, done: dict[str, Any]) -> None:
        """Every ``plot_frequency`` episodes: redraw the training curves."""
        if self.episode % self.config.plot_frequency == 0:
            self.plot_training_curves()

    # ------------------------------------------------------------------ evaluation

    def _evaluate(self, num_episodes: int | None = None) -> dict[str, Any]:
        """Greedy episodes on ``eval_env`` with seeds ``eval_seed + i``.

        Changes no agent counter and no training RNG (the global ones are restored).
        """
        stats = self._eval_stats(num_episodes or self.config.eval_episodes)
        entry = {"episode": self.episode, "total_steps": self.total_steps}
        for key in ("mean_reward", "std_reward", "min_reward", "max_reward", "hit_ratio"):
            if key in stats:
                entry[key] = stats[key]
        return entry

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
            results = [self._run_episode(evaluate=True, seed=self.eval_seed + i)
                       for i in range(n)]
        return {**episode_stats(results), "trained_episodes": self.episode,
                "trained_steps": self.total_steps}

    def _should_stop_early(self) -> bool:
        """True once early stopping fires (see TrainingConfig.patience)."""
        return self.early_stopper.should_stop()

    # ------------------------------------------------------------------ checkpoints

    def _checkpoint_payload(self, exact: bool) -> dict[str, Any]:
        return run_state.payload(self, exact)

    def _save_checkpoint(self, kind: str | Sequence[str], eval_reward: float | None = None,
                         exact: bool = True) -> list[Path]:
        """Write the full state into the slot(s) ``kind`` (best/latest/regular/emergency).

        One serialisation serves every slot; each ``.pt`` is atomic and its JSON comes
        last. Regular checkpoints are rotated (``keep_last``) after the new one is safe.
        Also refreshes ``metrics.json``.
        """
        kinds = [kind] if isinstance(kind, str) else list(kind)
        meta = {"episode": self.episode, "total_steps": self.total_steps,
                "eval_reward": eval_reward, "best_eval_reward": self.best_eval_reward,
                "exact": exact and self.config.save_replay_buffer}
        try:
            # metrics.json first: it is then never behind the newest checkpoint, even if
            # the process dies between the two (a resume that finds nothing left to
            # train does not rewrite it).
            self._write_metrics()
            paths, seconds = ckpt.write_checkpoint(self.checkpoint_dir, kinds,
                                                   self._checkpoint_payload(exact), meta)
        except OSError as exc:
            # Name only the checkpoints verified intact now (JSON present, hash matching):
            # the failed save may have replaced one slot's .pt before failing on its JSON.
            intact = [p.name for p in ckpt.intact_checkpoints(self.checkpoint_dir)]
            logger.error("Could not write checkpoint %s at episode %d (%s); the checkpoints "
                         "still intact and loadable: %s", "+".join(kinds), self.episode, exc,
                         ", ".join(intact) or "none")
            raise
        if "latest" in kinds:
            self._latest_at = (self.episode, self.total_steps)
        if "regular" in kinds:
            for gone in ckpt.rotate(self.checkpoint_dir, self.config.keep_last):
                logger.debug("Removed old checkpoint %s", gone.name)
        logger.info("Checkpoint %s saved at episode %d, step %d in %.2f s",
                    "+".join(p.stem for p in paths), self.episode, self.total_steps, seconds)
        return paths

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

    # ------------------------------------------------------------------ logging, plots

    def _log_progress(self) -> None:
        """Refresh the progress bar, or log a line every ``log_frequency`` episodes."""
        if self._progress is None:
            return
        last_eval = self.evaluations[-1]["mean_reward"] if self.evaluations else None
        self._progress.update(self.episode, self.total_steps, self.metrics["episode_rewards"][-1],
                              self.metrics["epsilons"][-1], last_eval, self._elapsed())

    def _log_evaluation(self, entry: dict[str, Any] | None = None) -> None:
        """Log an evaluation entry (the last one by default)."""
        entry = entry or (self.evaluations[-1] if self.evaluations else None)
        if entry is None:
            return
        hit = f" | hit ratio {entry['hit_ratio']:.4f}" if "hit_ratio" in entry else ""
        logger.info("Eval at episode %d (step %d): mean %.2f ± %.2f [min %.2f, max %.2f]%s "
                    "| best %s | %s%s", entry["episode"],
                    entry["total_steps"], entry["mean_reward"], entry["std_reward"],
                    entry["min_reward"], entry["max_reward"], hit,
                    format_score(self.best_eval_reward), self.early_stopper.describe(),
                    " -> stopping early" if self.stopped_early else "")
        if self._tracker is not None:
            values = {f"eval/{k}": v for k, v in entry.items()
                      if k not in ("episode", "total_steps")}
            with rng.preserved_global_rng():
                self._tracker.log(values, step=entry["episode"])

    def plot_training_curves(self) -> Path | None:
        """Redraw ``training_curves.png``; a plotting failure is logged, never fatal.

        Skipped when the file already shows this state: the end of a run whose last
        episode drew the periodic plot would otherwise draw the same picture twice
        (~0.3 s, a tenth of a short run).
        """
        from rlcache.training.plots import plot_training_curves

        state = (self.episode, self.total_steps, len(self.evaluations))
        if state == self._plotted and self.plot_file.is_file():
            return self.plot_file
        try:
            with rng.preserved_global_rng():
                path = plot_training_curves(self.metrics_dict(), self.plot_file)
            self._plotted = state
            return path
        except Exception as exc:
            logger.warning("Could not draw %s: %s", self.plot_file, exc)
            return None

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
