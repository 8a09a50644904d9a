"""TrainingConfig: every knob of the training orchestrator, validated once."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from rlcache.errors import UserError


@dataclass
class TrainingConfig:
    """How a run is orchestrated: budgets, evaluation, checkpoints, early stopping, logging.

    The first fifteen fields keep the names and defaults of the original trainer.
    """

    max_episodes: int = 50000
    """Stop after this many training episodes."""
    max_steps_per_episode: int = 1000
    """An episode is truncated (bootstrapped, not terminal) after this many steps."""
    eval_frequency: int = 100
    """Run a greedy evaluation every this many training episodes."""
    eval_episodes: int = 10
    """Episodes per evaluation; episode i is reset with seed ``eval_seed + i``."""
    checkpoint_frequency: int = 500
    """Write a regular ``checkpoint_ep{N}.pt`` every this many episodes."""
    checkpoint_dir: str = "checkpoints"
    """Folder for checkpoints, relative to the run's output folder."""
    early_stopping: bool = True
    """Stop when the mean evaluation reward stops improving (see ``patience``)."""
    patience: int = 50
    """Number of consecutive EVALUATIONS, counted only once ``min_episodes`` training
    episodes are done, whose mean reward does not beat the best mean so far by more than
    ``min_delta``. Training stops when this count reaches ``patience``. An improvement
    resets the count to 0 and becomes the new reference; evaluations before
    ``min_episodes`` can set the reference but are never counted. With the defaults
    (eval every 100 episodes) 50 evaluations are 5000 episodes."""
    min_episodes: int = 1000
    """Early stopping never fires, and counts nothing, before this many episodes."""
    seed: int | None = None
    """Seeds Python ``random``, NumPy's global RNG, torch and the training env's first
    reset. Evaluations use seeds ``seed + 10000 + i`` (``10000 + i`` when None)."""
    log_frequency: int = 10
    """Without a progress bar, log a progress line every this many episodes."""
    use_wandb: bool = False
    """Log config and metrics to Weights & Biases (``wandb`` is imported only if set)."""
    save_best_only: bool = True
    """True: at an evaluation, the ``best`` checkpoint is written only when the mean eval
    reward improves on the best so far. False: in addition, every evaluation also keeps a
    regular ``checkpoint_ep{N}`` (rotated with ``keep_last``)."""
    verbose: bool = True
    """Console output: progress bar on a terminal, progress lines otherwise."""
    plot_frequency: int = 1000
    """Redraw ``training_curves.png`` every this many episodes (and at the end)."""
    max_total_steps: int | None = None
    """Step budget over the whole run (None: no budget). Reaching it ends the current
    episode as a truncation and stops training."""
    min_delta: float = 0.0
    """An evaluation improves (for early stopping) only if its mean reward exceeds the
    reference by more than this."""
    use_tensorboard: bool = False
    """Write TensorBoard scalars to ``RUN/tensorboard`` (imported only if set)."""
    keep_last: int = 3
    """Regular ``checkpoint_ep{N}`` files to keep; older ones are deleted only after a
    newer one is safely written."""
    save_replay_buffer: bool = True
    """Store the replay buffer in checkpoints. Without it a resume is not exact."""
    wandb_project: str = "rlcache"
    """Weights & Biases project name."""
    num_envs: int = 1
    """Copies of the env stepped in lockstep, one batched forward and one batched replay
    insert per vector step: each round runs one episode in each (fewer in the last round
    of ``max_episodes``), then the end-of-episode steps run once. ``rl.train_freq``
    counts vector steps (as SB3's); epsilon, ``learning_starts`` and the target updates
    count transitions. 1 (the default) is the plain loop."""

    def validate(self) -> TrainingConfig:
        """Raise UserError naming ``training.<field>``, the value and what is allowed."""
        positive = ("max_episodes", "max_steps_per_episode", "eval_frequency",
                    "eval_episodes", "checkpoint_frequency", "log_frequency",
                    "plot_frequency", "keep_last", "num_envs")
        for name in positive:
            value = getattr(self, name)
            if not _is_int(value) or value <= 0:
                raise UserError(f"training.{name}: expected a positive integer, got {value!r}")
        for name in ("patience", "min_episodes"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise UserError(f"training.{name}: expected an integer >= 0, got {value!r}")
        if self.max_total_steps is not None and (
            not _is_int(self.max_total_steps) or self.max_total_steps <= 0
        ):
            raise UserError(f"training.max_total_steps: expected a positive integer or null, "
                            f"got {self.max_total_steps!r}")
        if self.seed is not None and (not _is_int(self.seed) or not 0 <= self.seed < 2**32):
            raise UserError(f"training.seed: expected an integer in [0, 2**32) or null, "
                            f"got {self.seed!r}")
        if isinstance(self.min_delta, bool) or not isinstance(self.min_delta, (int, float)) \
                or not self.min_delta >= 0:
            raise UserError(f"training.min_delta: expected a number >= 0, got {self.min_delta!r}")
        for name in ("early_stopping", "use_wandb", "save_best_only", "verbose",
                     "use_tensorboard", "save_replay_buffer"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise UserError(f"training.{name}: expected true or false, got {value!r}")
        for name in ("checkpoint_dir", "wandb_project"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise UserError(f"training.{name}: expected a non-empty string, got {value!r}")
        _check_folder_name(self.checkpoint_dir)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (weights-only-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        """Build from a mapping; an unknown key is a UserError naming it."""
        if not isinstance(data, dict):
            raise UserError(f"training: expected a mapping of settings, got {data!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"training.{unknown[0]}: unknown setting; allowed: "
                            f"{', '.join(sorted(known))}")
        return cls(**data).validate()


def _check_folder_name(value: str) -> None:
    # A run writes only inside its own folder: an absolute path, a '..' or a nested path
    # here would let a config (or a checkpoint's embedded one) aim the checkpoint
    # rotation's deletions at another run.
    if value in (".", "..") or "/" in value or "\\" in value or value != value.strip() \
            or "\0" in value:
        raise UserError(f"training.checkpoint_dir: expected a folder name inside the run "
                        f"folder (no '/', not '..'), got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
