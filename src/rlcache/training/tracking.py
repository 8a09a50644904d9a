"""Optional experiment trackers: Weights & Biases and TensorBoard.

Neither package is imported unless its switch is on. Tracker calls never touch the
training RNGs (the trainer wraps them), so tracking does not change results.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rlcache.errors import UserError

logger = logging.getLogger("rlcache")


class Tracker:
    """Fan metrics out to the enabled trackers."""

    def __init__(self, *, use_wandb: bool, use_tensorboard: bool, output_dir: Path,
                 run_config: dict[str, Any], project: str, resume_id: str | None = None):
        self._wandb: Any = None
        self._tb: Any = None
        self.wandb_id: str | None = None
        if use_wandb:
            try:
                import wandb
            except ImportError:
                raise UserError("training.use_wandb: wandb is not installed "
                                "(pip install 'rlcache[wandb]')") from None
            kwargs: dict[str, Any] = {"project": project, "config": run_config,
                                      "dir": str(output_dir)}
            if resume_id:
                kwargs.update(id=resume_id, resume="allow")
            self._wandb = wandb.init(**kwargs)
            self.wandb_id = getattr(self._wandb, "id", None)
        if use_tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise UserError("training.use_tensorboard: tensorboard is not installed "
                                "(pip install 'rlcache[tensorboard]')") from None
            self._tb = SummaryWriter(log_dir=str(output_dir / "tensorboard"))

    def log(self, values: dict[str, float | None], step: int) -> None:
        """Log scalars (None values are dropped) at ``step`` (the episode number)."""
        clean = {k: float(v) for k, v in values.items() if v is not None}
        if self._wandb is not None:
            self._wandb.log(clean, step=step)
        if self._tb is not None:
            for key, value in clean.items():
                self._tb.add_scalar(key, value, step)

    def close(self) -> None:
        """Flush and finish."""
        if self._tb is not None:
            self._tb.flush()
            self._tb.close()
            self._tb = None
        if self._wandb is not None:
            try:
                self._wandb.finish()
            except Exception as exc:  # a tracker must never lose a finished run
                logger.warning("wandb finish failed: %s", exc)
            self._wandb = None
