"""Training orchestration: TrainingConfig, Trainer, checkpoints, early stopping, plots.

``TrainingConfig`` and ``EarlyStopping`` are plain Python; ``Trainer`` and the checkpoint
names load (with torch) on first use, so reading a config imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    """The torch-backed names, imported when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rlcache.training' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
