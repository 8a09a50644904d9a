"""Training orchestration: TrainingConfig, Trainer, checkpoints, early stopping, plots."""

from rlcache.training.checkpoint import LoadedCheckpoint, load_newest_intact
from rlcache.training.config import TrainingConfig
from rlcache.training.early_stopping import EarlyStopping
from rlcache.training.trainer import Trainer

__all__ = ["EarlyStopping", "LoadedCheckpoint", "Trainer", "TrainingConfig",
           "load_newest_intact"]
