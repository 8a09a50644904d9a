"""Training orchestration: TrainingConfig, Trainer, checkpoints, early stopping, plots.

``TrainingConfig`` and ``EarlyStopping`` are plain Python; ``Trainer`` and the checkpoint
names load (with torch) on first use, so reading a config imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlcache.lazy import lazy_getattr
from rlcache.training.config import TrainingConfig
from rlcache.training.early_stopping import EarlyStopping

if TYPE_CHECKING:
    from rlcache.training.checkpoint import LoadedCheckpoint, load_newest_intact
    from rlcache.training.trainer import Trainer

__all__ = ["EarlyStopping", "LoadedCheckpoint", "Trainer", "TrainingConfig",
           "load_newest_intact"]
_LAZY = {"LoadedCheckpoint": "rlcache.training.checkpoint",
         "load_newest_intact": "rlcache.training.checkpoint",
         "Trainer": "rlcache.training.trainer"}

__getattr__ = lazy_getattr("rlcache.training", _LAZY, globals())
