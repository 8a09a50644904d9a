"""A trace file is read once per process and shared, read-only, by the envs built on it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rlcache import builders
from rlcache.cache import generate
from rlcache.cache.readers import read_trace_shared
from rlcache.config import load_run_config


def _csv(path: Path, seed: int) -> Path:
    ids = generate("zipf", 4_000, 400, seed=seed).ids
    path.write_text("id\n" + "".join(f"{i}\n" for i in ids.tolist()))
    return path


def test_train_and_eval_envs_share_one_read_only_trace(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", seed=1)
    config = load_run_config(flags={"env.name": "cache", "env.trace": str(path),
                                    "env.split": "train", "env.cache_size": 0.1,
                                    "env.window": 500, "env.reward": "oracle",
                                    "training.seed": 0})
    trainer = builders.build_trainer(config, tmp_path / "run")
    train, held = trainer.env.unwrapped, trainer.eval_env.unwrapped
    assert train is not held and train.trace is held.trace
    train.reset(seed=0)
    held.reset(seed=0)
    assert train.trace.__dict__["next_access"] is held.trace.next_access  # computed once
    for array in (train.trace.ids, train.trace.sizes, train.trace.next_access):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 7
    whole = read_trace_shared(path)
    assert whole.frozen and whole.split(0.5)[0] is train.trace
    assert not (tmp_path / "run").exists()  # building writes nothing


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", seed=1)
    first = read_trace_shared(path)
    assert read_trace_shared(str(path)) is first
    _csv(path, seed=2)
    os.utime(path, ns=(1, 1))  # another mtime whatever the clock's resolution
    again = read_trace_shared(path)
    assert again is not first and not np.array_equal(again.ids, first.ids)
    assert read_trace_shared(path, "csv") is not again  # other options, another read
