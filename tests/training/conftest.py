"""Shared fixtures: the seeded run builder and a reference run to compare against."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import torch

_spec = importlib.util.spec_from_file_location("rlcache_train_script",
                                               Path(__file__).with_name("_train_script.py"))
assert _spec is not None and _spec.loader is not None
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)

SCRIPT_PATH = Path(__file__).with_name("_train_script.py")
REF_EPISODES = 24


def load_metrics(run: Path) -> dict[str, Any]:
    data = json.loads((run / "metrics.json").read_text())
    data.pop("elapsed_seconds")
    return data


def assert_same_agent(a: Any, b: Any) -> None:
    """Every weight, optimizer tensor, counter and replay slot identical."""
    sa, sb = a.state_dict(), b.state_dict()
    for net in ("q_net", "target_net"):
        for key, value in sa[net].items():
            assert torch.equal(value, sb[net][key]), f"{net}.{key} differs"
    for idx, st in sa["optimizer"]["state"].items():
        for key, value in st.items():
            assert torch.equal(value, sb["optimizer"]["state"][idx][key]), f"adam {idx}.{key}"
    assert (sa["num_steps"], sa["num_updates"], sa["rng"]) == \
        (sb["num_steps"], sb["num_updates"], sb["rng"])
    for key in ("obs", "next_obs", "actions", "rewards", "dones"):
        assert torch.equal(sa["replay"][key], sb["replay"][key]), f"replay.{key}"


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The uninterrupted mock run of REF_EPISODES episodes: (run dir, trainer)."""
    out = tmp_path_factory.mktemp("reference") / "run"
    trainer = script.build(out, REF_EPISODES)
    trainer.train()
    return out, trainer


@pytest.fixture(autouse=True)
def _single_thread_and_clean_logger():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    logger = logging.getLogger("rlcache")
    before = list(logger.handlers)
    yield
    torch.set_num_threads(threads)
    assert logger.handlers == before, "a trainer left logging handlers behind"
