"""Checkpoint files: contract keys, rotation, corruption detection and fallback, pickle."""

from __future__ import annotations

import errno
import json
import logging
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from rlcache.errors import UserError
from rlcache.serialization import UnsafePayloadError, sha256_file
from rlcache.training import checkpoint as ckpt
from rlcache.training import rng

from .conftest import REF_EPISODES, script

META = {"kind", "episode", "total_steps", "eval_reward", "best_eval_reward", "timestamp",
        "sha256", "rlcache_version", "exact"}


@pytest.fixture
def run_copy(reference_run, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(reference_run[0], out)
    return out


def test_checkpoint_json_contract_and_layout(reference_run) -> None:
    run = reference_run[0]
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    # checkpoint_frequency 4, keep_last 2: only the two newest regular ones survive.
    assert names == ["best.json", "best.pt", "checkpoint_ep20.json", "checkpoint_ep20.pt",
                     "checkpoint_ep24.json", "checkpoint_ep24.pt", "latest.json", "latest.pt"]
    for pt in (run / "checkpoints").glob("*.pt"):
        meta = json.loads(pt.with_suffix(".json").read_text())
        assert set(meta) == META
        assert meta["sha256"] == sha256_file(pt)
        assert meta["kind"] in ("best", "latest", "regular")
        assert "T" in meta["timestamp"] and meta["exact"] is True
    latest = json.loads((run / "checkpoints" / "latest.json").read_text())
    assert (latest["episode"], latest["kind"]) == (REF_EPISODES, "latest")
    assert (run / "config.yaml").is_file() and (run / "logs" / "training.log").is_file()
    assert (run / "training_curves.png").stat().st_size > 1000


def test_payload_is_weights_only_and_complete(reference_run) -> None:
    payload = torch.load(reference_run[0] / "checkpoints" / "latest.pt", weights_only=True)
    assert {"agent", "trainer", "metrics", "early_stopping", "rng", "run_config",
            "training_config"} <= set(payload)
    assert {"python", "numpy", "torch"} <= set(payload["rng"]["global"])
    assert payload["rng"]["env"]["bit_generator"] == "PCG64"
    assert payload["agent"]["replay"]["obs"].shape[1] == 60
    assert payload["run_config"]["training"]["max_episodes"] == REF_EPISODES


def _resume(run: Path, caplog) -> tuple[object, dict]:
    trainer = script.build(run, REF_EPISODES)
    with caplog.at_level(logging.WARNING, logger="rlcache"):
        meta = trainer.load_checkpoint(run)
    return trainer, meta


@pytest.mark.parametrize("damage", ["truncated", "bitflip", "wrong_sha", "missing_json",
                                    "garbled_json", "zero_length"])
def test_damaged_latest_falls_back_with_warning(run_copy: Path, caplog, damage: str) -> None:
    latest = run_copy / "checkpoints" / "latest.pt"
    data = latest.read_bytes()
    if damage == "truncated":
        latest.write_bytes(data[: len(data) // 2])
    elif damage == "zero_length":
        latest.write_bytes(b"")
    elif damage == "bitflip":
        latest.write_bytes(data[:1000] + bytes([data[1000] ^ 0x10]) + data[1001:])
    elif damage == "wrong_sha":
        meta = json.loads(latest.with_suffix(".json").read_text())
        meta["sha256"] = "0" * 64
        latest.with_suffix(".json").write_text(json.dumps(meta))
    elif damage == "missing_json":
        latest.with_suffix(".json").unlink()
    else:
        latest.with_suffix(".json").write_text('{"kind": "latest", "episo')
    trainer, meta = _resume(run_copy, caplog)
    assert trainer.loaded_from != latest and trainer.loaded_from.name != "latest.pt"
    assert meta["episode"] == REF_EPISODES == trainer.episode
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("latest.pt" in w and str(trainer.loaded_from) in w for w in warnings), warnings


def test_explicit_damaged_file_falls_back_to_older(run_copy: Path, caplog) -> None:
    folder = run_copy / "checkpoints"
    for name in ("latest", "best", "checkpoint_ep24"):
        (folder / f"{name}.pt").write_bytes(b"torn")
    trainer = script.build(run_copy, REF_EPISODES)
    with caplog.at_level(logging.WARNING, logger="rlcache"):
        trainer.load_checkpoint(folder / "latest.pt")
    assert trainer.loaded_from == folder / "checkpoint_ep20.pt"
    assert trainer.episode == 20
    text = caplog.text
    assert "latest.pt" in text and "checkpoint_ep24.pt" in text and "checkpoint_ep20.pt" in text


def test_nothing_intact_is_a_user_error(run_copy: Path) -> None:
    for pt in (run_copy / "checkpoints").glob("*.pt"):
        pt.write_bytes(pt.read_bytes()[:100])
    trainer = script.build(run_copy, REF_EPISODES)
    with pytest.raises(UserError, match="no intact checkpoint") as info:
        trainer.load_checkpoint(run_copy)
    assert "\n" not in str(info.value)
    with pytest.raises(UserError, match="not found"):
        trainer.load_checkpoint(run_copy / "nope.pt")


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_object_is_refused_and_never_run(run_copy: Path) -> None:
    latest = run_copy / "checkpoints" / "latest.pt"
    marker = run_copy / "pwned"
    payload = torch.load(latest, weights_only=True)
    payload["evil"] = _Evil(str(marker))
    torch.save(payload, latest)
    meta_path = latest.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = sha256_file(latest)  # a consistent, tampered pair
    meta_path.write_text(json.dumps(meta))
    trainer = script.build(run_copy, REF_EPISODES)
    with pytest.raises(UnsafePayloadError, match="needs pickle"):
        trainer.load_checkpoint(latest)
    assert not marker.exists()


def test_failed_save_keeps_previous_checkpoint(run_copy: Path, monkeypatch, caplog) -> None:
    trainer = script.build(run_copy, REF_EPISODES + 4)
    trainer.load_checkpoint(run_copy)
    before = sha256_file(run_copy / "checkpoints" / "latest.pt")

    def full_disk(path, data):  # the first half of every atomic checkpoint write
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt, "stage_bytes", full_disk)
    with caplog.at_level(logging.ERROR, logger="rlcache"), pytest.raises(OSError):
        trainer._save_checkpoint("latest")
    assert "intact" in caplog.text
    assert sha256_file(run_copy / "checkpoints" / "latest.pt") == before
    monkeypatch.undo()
    script.build(run_copy, REF_EPISODES).load_checkpoint(run_copy / "checkpoints" / "latest.pt")


class _Killed(BaseException):
    """Stands for SIGKILL: raised where the process would die, nothing runs after it."""


def test_save_killed_between_its_renames_is_rolled_forward(run_copy: Path, monkeypatch,
                                                          caplog) -> None:
    """Two kills: one tears every other slot, the next lands between latest.pt's and
    latest.json's renames. The staged JSON matches the new latest.pt, so the save counts
    (the reader uses it) and the next training process finishes it: never 'no intact
    checkpoint' (the chaos test once found exactly this)."""
    folder = run_copy / "checkpoints"
    for pt in folder.glob("*.pt"):  # the first kill's leftovers: only latest survives
        if pt.stem != "latest":
            pt.with_suffix(".json").unlink()
    trainer = script.build(run_copy, REF_EPISODES + 4)
    trainer.load_checkpoint(run_copy)
    trainer.episode += 1  # a later state than the one on disk
    real_commit = ckpt.commit

    def killed_before_json(tmp, path):
        if str(path).endswith(".json"):
            raise _Killed
        real_commit(tmp, path)

    monkeypatch.setattr(ckpt, "commit", killed_before_json)
    with pytest.raises(_Killed):
        trainer._save_checkpoint("latest")
    monkeypatch.undo()
    old_meta = json.loads((folder / "latest.json").read_text())
    assert old_meta["sha256"] != sha256_file(folder / "latest.pt")  # torn
    assert len(list(folder.glob(".latest.json.*.tmp"))) == 1

    loaded = ckpt.load_newest_intact(run_copy)
    assert loaded.path.name == "latest.pt" and loaded.meta["episode"] == REF_EPISODES + 1
    assert [p.name for p in ckpt.intact_checkpoints(folder)] == ["latest.pt"]
    assert ckpt.finish_torn_saves(folder) == [folder / "latest.pt"]
    assert json.loads((folder / "latest.json").read_text())["episode"] == REF_EPISODES + 1
    assert not list(folder.glob(".*.tmp")) and ckpt.finish_torn_saves(folder) == []


def test_staged_json_of_an_unrenamed_pt_is_ignored(run_copy: Path, monkeypatch) -> None:
    """Killed after staging both files but before renaming the .pt: the old pair is
    intact and used; the staged JSON (for other bytes) is not rolled forward."""
    folder = run_copy / "checkpoints"
    before = json.loads((folder / "latest.json").read_text())
    trainer = script.build(run_copy, REF_EPISODES + 4)
    trainer.load_checkpoint(run_copy)
    trainer.episode += 1

    def killed_before_any_rename(tmp, path):
        raise _Killed

    monkeypatch.setattr(ckpt, "commit", killed_before_any_rename)
    with pytest.raises(_Killed):
        trainer._save_checkpoint("latest")
    monkeypatch.undo()
    assert ckpt.load_newest_intact(folder / "latest.pt").meta == before
    assert ckpt.finish_torn_saves(folder) == []


def test_rotation_deletes_only_older_regular_files(tmp_path: Path) -> None:
    payload = {"agent": {}, "trainer": {}}
    for ep in (5, 10, 15, 20):
        ckpt.write_checkpoint(tmp_path, ["regular"], payload,
                              {"episode": ep, "total_steps": ep * 10, "eval_reward": None,
                               "best_eval_reward": None, "exact": True})
    ckpt.write_checkpoint(tmp_path, ["latest"], payload,
                          {"episode": 20, "total_steps": 200, "eval_reward": None,
                           "best_eval_reward": None, "exact": True})
    gone = ckpt.rotate(tmp_path, keep_last=2)
    assert sorted(p.name for p in gone) == ["checkpoint_ep10.pt", "checkpoint_ep5.pt"]
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == \
        ["checkpoint_ep15.pt", "checkpoint_ep20.pt", "latest.pt"]
    assert not (tmp_path / "checkpoint_ep5.json").exists()


def test_rng_capture_restore_roundtrip() -> None:
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    assert rng.capture_env(env) is None  # not seeded yet, and not seeded by capturing
    env.reset(seed=3)
    env.action_space.seed(5)
    rng.seed_everything(11)
    saved = rng.capture_global()
    env_state, spaces = rng.capture_env(env), rng.capture_spaces(env)
    assert set(spaces) == {"action_space"}
    first = (random.random(), np.random.rand(), torch.rand(1).item(),
             env.unwrapped.np_random.random(), env.action_space.sample())
    rng.restore_global(saved)
    rng.restore_env(env, env_state)
    rng.restore_spaces(env, spaces)
    again = (random.random(), np.random.rand(), torch.rand(1).item(),
             env.unwrapped.np_random.random(), env.action_space.sample())
    assert first == again
    state = rng.capture_global()
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    rng.restore_global(state)
    with rng.preserved_global_rng():
        random.random(), np.random.rand(), torch.rand(3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
