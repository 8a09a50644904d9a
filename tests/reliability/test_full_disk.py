"""A checkpoint save that hits ENOSPC leaves the previous checkpoints intact and loadable,
and the log says which ones.

Injected in-process (``os.fsync`` or the temp file's ``write`` raising ENOSPC from the
N-th write of a save on, the disk staying full) and, where this box lets us mount one,
for real on a small tmpfs.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import torch

from rlcache import builders, serialization
from rlcache.config import RunConfig
from rlcache.training import checkpoint as ckpt

from . import chaos, reference_run, tree_hash


def _trainer(run: Path, episodes: int):
    config = RunConfig.from_dict(chaos.TINY_CONFIG)
    config.training.max_episodes = episodes
    loaded = ckpt.load_newest_intact(run)
    return builders.build_trainer(config, run, resume=loaded)


class _FullDisk:
    """From the ``after``-th atomic write on, every write fails with ENOSPC."""

    def __init__(self, after: int, where: str) -> None:
        self.after, self.where, self.calls, self.armed = after, where, 0, False

    def _full(self) -> bool:
        if not self.armed:
            return False
        self.calls += 1
        return self.calls >= self.after

    def install(self, monkeypatch) -> None:
        real_fsync, real_fdopen = os.fsync, os.fdopen
        disk = self

        def fsync(fd):
            if disk.where == "fsync" and disk._full():
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_fsync(fd)

        class _Writer(io.BufferedWriter):
            def write(self, data):  # type: ignore[override]
                if disk._full():
                    raise OSError(errno.ENOSPC, "No space left on device")
                return super().write(data)

        def fdopen(fd, mode="r", *args, **kwargs):
            if disk.where == "write" and mode == "wb":
                return _Writer(io.FileIO(fd, "wb"))
            return real_fdopen(fd, mode, *args, **kwargs)

        monkeypatch.setattr(serialization.os, "fsync", fsync)
        monkeypatch.setattr(serialization.os, "fdopen", fdopen)


@pytest.mark.parametrize("where", ["fsync", "write"])
@pytest.mark.parametrize("after", [1, 2, 3, 4, 5, 9])
def test_injected_enospc_keeps_previous_checkpoints(tmp_path_factory, tmp_path: Path,
                                                    monkeypatch, caplog, where: str,
                                                    after: int) -> None:
    torch.set_num_threads(1)
    ref = reference_run(tmp_path_factory)
    run = tmp_path / "run"
    shutil.copytree(ref, run)
    folder = run / "checkpoints"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    trainer = _trainer(run, 36)
    disk = _FullDisk(after, where)
    disk.install(monkeypatch)
    real_save = trainer._save_checkpoint

    def save(*args, **kwargs):  # the disk fills up from the first checkpoint save on
        disk.armed = True
        return real_save(*args, **kwargs)

    monkeypatch.setattr(trainer, "_save_checkpoint", save)
    with caplog.at_level(logging.INFO, logger="rlcache"), pytest.raises(OSError) as info:
        trainer.train()
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    said = [m for m in errors if "Could not write checkpoint" in m]
    assert said and "still intact and loadable: " in said[0], errors
    named = said[0].split("still intact and loadable: ")[1].split(", ")
    assert "latest.pt" in named or any(n.startswith("checkpoint_ep") for n in named), said
    assert any("emergency checkpoint could not be written" in m for m in errors), errors
    assert not chaos.temporaries(run), "a failed write left its temp file"
    # Every slot is a consistent pair: the old one, or (before the disk filled) a new one.
    states = chaos.slot_states(run)
    assert set(states.values()) == {"intact"}, states
    for name, data in before.items():
        now = folder / name
        if not now.exists():  # rotated away after a newer regular checkpoint was safe
            assert name.startswith("checkpoint_ep") and len(ckpt.regular_checkpoints(folder))
            continue
        if now.read_bytes() != data:
            assert name.startswith(("latest", "checkpoint_ep33")), name
    for name in named:
        assert states[Path(name).stem] == "intact"
    loaded = ckpt.load_newest_intact(run)
    assert loaded.meta["episode"] >= 30  # the old state, or a newer save that got through
    # The run goes on once there is room again, and ends where an unbroken one would.
    resumed = _trainer(run, 36)
    resumed.train()
    assert resumed.episode == 36


def _can_mount_tmpfs(where: Path) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                            capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    if ok:
        subprocess.run(["umount", str(where)], capture_output=True, timeout=20)
    return ok


_PROBE = Path("/tmp") / f"rlcache-tmpfs-probe-{uuid.uuid4().hex[:8]}"
CAN_MOUNT = os.geteuid() == 0 and shutil.which("mount") is not None and \
    _can_mount_tmpfs(_PROBE)
shutil.rmtree(_PROBE, ignore_errors=True)


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root and `mount -t tmpfs` (not here)")
def test_real_full_tmpfs(tmp_path_factory, tmp_path: Path) -> None:
    ref = reference_run(tmp_path_factory)
    pt_size = (ref / "checkpoints" / "latest.pt").stat().st_size
    mnt = tmp_path / "small"
    mnt.mkdir()
    # Room for the run folder and about three checkpoint files, not for the whole run.
    size_kb = (3 * pt_size + 200_000) // 1024
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mnt)],
                   check=True, timeout=20)
    try:
        out = mnt / "run"
        config = chaos.write_config(tmp_path)
        proc = subprocess.run(chaos.train_cmd(config, out), capture_output=True, text=True,
                              env=chaos.child_env(), timeout=240)
        assert proc.returncode == 1, "the disk should have filled up"
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("rlcache: error: ")
        output = proc.stdout + proc.stderr
        said = [line for line in output.splitlines() if "Could not write" in line]
        assert said and "still intact and loadable: " in said[0], output
        named = said[0].split("still intact and loadable: ")[1].split(", ")
        assert named and named != ["none"], said
        states = chaos.slot_states(out)
        for name in named:
            assert states[Path(name).stem] == "intact", states
        # Loadable: evaluate (writes nothing) reads the newest intact one.
        hashes = tree_hash(out)
        ev = subprocess.run(chaos.rlcache_cmd("evaluate", "--checkpoint", str(out), "--json"),
                            capture_output=True, text=True, env=chaos.child_env(),
                            timeout=240)
        assert ev.returncode == 0, ev.stderr
        assert tree_hash(out) == hashes
        print(f"\ntmpfs {size_kb} KiB: exit {proc.returncode}; said: {said[0][:160]}")
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=20)
