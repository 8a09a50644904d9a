"""What a Trainer does after every training episode: a short list of named steps, in order.

:data:`END_OF_EPISODE` is the list: record, track, evaluate, early stop, checkpoint,
report, plot. Each step takes the trainer and ``done``, the episode's hand-over (its
``result``, the checkpoint slots due in ``kinds``, the evaluation ``entry`` if one ran).
The Trainer stays the loop; the steps read and update its counters, and save, evaluate
and plot through its methods (``_save_checkpoint``, ``_eval_stats``,
``plot_training_curves``), the points that tests and benchmarks wrap. The bodies of
those methods live here too: saving the checkpoint slots and drawing the curves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlcache.training import checkpoint as ckpt
from rlcache.training import policy_twin, rng, run_state
from rlcache.training.progress import format_score

if TYPE_CHECKING:
    from rlcache.training.trainer import Trainer

logger = logging.getLogger("rlcache")

Step = Callable[["Trainer", dict[str, Any]], None]


def run(trainer: Trainer, result: dict[str, Any]) -> None:
    """Run the end-of-episode steps for the episode that produced ``result``."""
    run_round(trainer, [result])


def run_round(trainer: Trainer, results: Sequence[dict[str, Any]]) -> None:
    """The steps after a round of episodes (one per env): each episode recorded and
    tracked, then the other steps once, due when the round passed their frequency."""
    since = trainer.episode
    done: dict[str, Any] = {}
    for result in results:
        done = {"result": result, "kinds": [], "entry": None, "since": since}
        for _, step in END_OF_EPISODE[:PER_EPISODE]:
            step(trainer, done)
    for _, step in END_OF_EPISODE[PER_EPISODE:]:
        step(trainer, done)


def _due(trainer: Trainer, done: dict[str, Any], frequency: int) -> bool:
    """Whether the episodes since ``done["since"]`` reached a multiple of ``frequency``."""
    return trainer.episode // frequency > done["since"] // frequency


def record(trainer: Trainer, done: dict[str, Any]) -> None:
    """Append the episode's metrics, count it, log progress."""
    result, m = done["result"], trainer.metrics
    done["epsilon"] = epsilon = float(trainer.agent.get_metrics()["epsilon"])
    m["episode_rewards"].append(result["reward"])
    m["episode_lengths"].append(result["length"])
    m["losses"].append(result["loss"])
    m["epsilons"].append(epsilon)
    m["q_values"].append(result["q_mean"])
    trainer.episode += 1
    log_progress(trainer)


def track(trainer: Trainer, done: dict[str, Any]) -> None:
    """Send the episode to the tracker (W&B / TensorBoard), if any."""
    if trainer._tracker is None:
        return
    result = done["result"]
    with rng.preserved_global_rng():
        trainer._tracker.log({"train/reward": result["reward"],
                              "train/length": result["length"],
                              "train/loss": result["loss"],
                              "train/q_mean": result["q_mean"],
                              "train/epsilon": done["epsilon"]}, step=trainer.episode)


def evaluate(trainer: Trainer, done: dict[str, Any]) -> None:
    """Every ``eval_frequency`` episodes: greedy evaluation, best reward, its slots."""
    cfg = trainer.config
    if not _due(trainer, done, cfg.eval_frequency):
        return
    done["entry"] = entry = evaluation_entry(trainer)
    trainer.evaluations.append(entry)
    reward = entry["mean_reward"]
    improved = trainer.best_eval_reward is None or reward > trainer.best_eval_reward
    if improved:
        trainer.best_eval_reward = reward
    done["kinds"] += ["latest", *(["best"] if improved else []),
                      *(["regular"] if not cfg.save_best_only else [])]


def early_stop(trainer: Trainer, done: dict[str, Any]) -> None:
    """After an evaluation: update early stopping, then log the evaluation."""
    entry = done["entry"]
    if entry is None:
        return
    trainer.early_stopper.update(trainer.episode, entry["mean_reward"])
    trainer.stopped_early = trainer.early_stopper.should_stop()
    log_evaluation(trainer, entry)


def checkpoint(trainer: Trainer, done: dict[str, Any]) -> None:
    """Save the due slots (evaluation's, and ``checkpoint_frequency``'s)."""
    kinds = done["kinds"]
    if _due(trainer, done, trainer.config.checkpoint_frequency):
        kinds += [k for k in ("latest", "regular") if k not in kinds]
    if kinds:
        entry = done["entry"]
        trainer._save_checkpoint(kinds, eval_reward=None if entry is None
                                 else entry["mean_reward"])


def report(trainer: Trainer, done: dict[str, Any]) -> None:
    """Hand the evaluation (its checkpoints written) to ``on_evaluation``."""
    if done["entry"] is not None and trainer.on_evaluation is not None:
        with rng.preserved_global_rng():
            trainer.on_evaluation(dict(trainer.evaluations[-1]))


def plot(trainer: Trainer, done: dict[str, Any]) -> None:
    """Every ``plot_frequency`` episodes: redraw the training curves."""
    if _due(trainer, done, trainer.config.plot_frequency):
        trainer.plot_training_curves()


#: What happens after every training episode, in this order.
END_OF_EPISODE: tuple[tuple[str, Step], ...] = (
    ("record", record), ("track", track), ("evaluate", evaluate),
    ("early_stop", early_stop), ("checkpoint", checkpoint), ("report", report),
    ("plot", plot))
PER_EPISODE = 2  # record and track run per episode of a round, the rest once per round


# ---------------------------------------------------------------------- the steps' work

def evaluation_entry(trainer: Trainer, num_episodes: int | None = None) -> dict[str, Any]:
    """Greedy episodes on the eval env, as an ``evaluations`` entry (no training RNG moves)."""
    stats = trainer._eval_stats(num_episodes or trainer.config.eval_episodes)
    entry = {"episode": trainer.episode, "total_steps": trainer.total_steps}
    for key in ("mean_reward", "std_reward", "min_reward", "max_reward", "hit_ratio"):
        if key in stats:
            entry[key] = stats[key]
    return entry


def save_checkpoint(trainer: Trainer, kinds: Sequence[str], eval_reward: float | None,
                    exact: bool) -> list[Path]:
    """Write the trainer's full state into the slots ``kinds`` (Trainer._save_checkpoint)."""
    kinds = list(kinds)
    meta = {"episode": trainer.episode, "total_steps": trainer.total_steps,
            "eval_reward": eval_reward, "best_eval_reward": trainer.best_eval_reward,
            "exact": exact and trainer.config.save_replay_buffer}
    try:
        # metrics.json first: it is then never behind the newest checkpoint, even if
        # the process dies between the two (a resume that finds nothing left to
        # train does not rewrite it).
        trainer._write_metrics()
        payload = run_state.payload(trainer, exact)
        paths, seconds = ckpt.write_checkpoint(trainer.checkpoint_dir, kinds, payload, meta)
    except OSError as exc:
        # Name only the checkpoints verified intact now (JSON present, hash matching):
        # the failed save may have replaced one slot's .pt before failing on its JSON.
        intact = [p.name for p in ckpt.intact_checkpoints(trainer.checkpoint_dir)]
        logger.error("Could not write checkpoint %s at episode %d (%s); the checkpoints "
                     "still intact and loadable: %s", "+".join(kinds), trainer.episode, exc,
                     ", ".join(intact) or "none")
        raise
    # best / latest of a cache agent: their torch-free twins for rlcache evaluate
    policy_twin.write_twins(paths, payload)
    if "latest" in kinds:
        trainer._latest_at = (trainer.episode, trainer.total_steps)
    if "regular" in kinds:
        for gone in ckpt.rotate(trainer.checkpoint_dir, trainer.config.keep_last):
            logger.debug("Removed old checkpoint %s", gone.name)
    logger.info("Checkpoint %s saved at episode %d, step %d in %.2f s",
                "+".join(p.stem for p in paths), trainer.episode, trainer.total_steps, seconds)
    return paths


def log_progress(trainer: Trainer) -> None:
    """Refresh the progress bar, or log a line every ``log_frequency`` episodes."""
    if trainer._progress is None:
        return
    last_eval = trainer.evaluations[-1]["mean_reward"] if trainer.evaluations else None
    trainer._progress.update(trainer.episode, trainer.total_steps,
                             trainer.metrics["episode_rewards"][-1],
                             trainer.metrics["epsilons"][-1], last_eval, trainer._elapsed())


def log_evaluation(trainer: Trainer, entry: dict[str, Any]) -> None:
    """Log an evaluation entry, and send it to the tracker if any."""
    hit = f" | hit ratio {entry['hit_ratio']:.4f}" if "hit_ratio" in entry else ""
    logger.info("Eval at episode %d (step %d): mean %.2f ± %.2f [min %.2f, max %.2f]%s "
                "| best %s | %s%s", entry["episode"],
                entry["total_steps"], entry["mean_reward"], entry["std_reward"],
                entry["min_reward"], entry["max_reward"], hit,
                format_score(trainer.best_eval_reward), trainer.early_stopper.describe(),
                " -> stopping early" if trainer.stopped_early else "")
    if trainer._tracker is not None:
        values = {f"eval/{k}": v for k, v in entry.items()
                  if k not in ("episode", "total_steps")}
        with rng.preserved_global_rng():
            trainer._tracker.log(values, step=entry["episode"])


def draw_curves(trainer: Trainer) -> Path | None:
    """Redraw ``training_curves.png`` unless it shows this state; failures only logged."""
    from rlcache.training.plots import plot_training_curves

    state = (trainer.episode, trainer.total_steps, len(trainer.evaluations))
    if state == trainer._plotted and trainer.plot_file.is_file():
        return trainer.plot_file
    try:
        with rng.preserved_global_rng():
            path = plot_training_curves(trainer.metrics_dict(), trainer.plot_file)
        trainer._plotted = state
        return path
    except Exception as exc:
        logger.warning("Could not draw %s: %s", trainer.plot_file, exc)
        return None
