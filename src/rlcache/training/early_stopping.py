"""Early stopping on the mean evaluation reward, with a state that survives a resume."""

from __future__ import annotations

from typing import Any


class EarlyStopping:
    """Counts evaluations without improvement.

    At each evaluation (episode ``E``, mean reward ``R``):

    - if ``R > reference + min_delta`` (or there is no reference yet) the evaluation is an
      improvement: ``reference = R`` and the count goes back to 0;
    - otherwise, if ``E >= min_episodes``, the count grows by one (evaluations before
      ``min_episodes`` are never counted).

    ``should_stop`` is true once ``enabled``, ``E >= min_episodes`` and the count has
    reached ``patience``.
    """

    def __init__(self, enabled: bool, patience: int, min_delta: float, min_episodes: int):
        self.enabled = enabled
        self.patience = patience
        self.min_delta = min_delta
        self.min_episodes = min_episodes
        self.reference: float | None = None
        self.evals_without_improvement = 0
        self.last_episode = 0
        self.stopped = False

    def update(self, episode: int, mean_reward: float) -> bool:
        """Record an evaluation; True if it counts as an improvement."""
        self.last_episode = episode
        if self.reference is None or mean_reward > self.reference + self.min_delta:
            self.reference = float(mean_reward)
            self.evals_without_improvement = 0
            return True
        if episode >= self.min_episodes:
            self.evals_without_improvement += 1
        return False

    def should_stop(self) -> bool:
        """True when training should stop (sets ``stopped``)."""
        if (self.enabled and self.last_episode >= self.min_episodes
                and self.evals_without_improvement >= self.patience):
            self.stopped = True
        return self.stopped

    def describe(self) -> str:
        """The count in words for the evaluation log (an evaluation before
        ``min_episodes`` may fall without counting: say so rather than "0 evals")."""
        if not self.enabled:
            return "early stopping off"
        if self.last_episode < self.min_episodes:
            return f"early stopping counts from episode {self.min_episodes}"
        return (f"no improvement for {self.evals_without_improvement} of {self.patience} "
                f"evals")

    def state_dict(self) -> dict[str, Any]:
        """Weights-only-safe state."""
        return {"reference": self.reference,
                "evals_without_improvement": self.evals_without_improvement,
                "last_episode": self.last_episode, "stopped": self.stopped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the settings stay those of the current config."""
        self.reference = state["reference"]
        self.evals_without_improvement = int(state["evals_without_improvement"])
        self.last_episode = int(state["last_episode"])
        self.stopped = bool(state["stopped"])
