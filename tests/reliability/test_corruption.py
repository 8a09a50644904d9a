"""Damaged and tampered checkpoints, through real ``rlcache train --resume`` and
``rlcache evaluate --checkpoint`` processes.

Each damage class on ``latest``: the loader names the damaged file in a warning and uses
the newest intact checkpoint. With every checkpoint damaged: exit 2, one line on stderr,
no traceback, nothing in the run folder changed. A pickled object whose ``__reduce__``
would create a file is refused and the file never appears.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from rlcache.serialization import sha256_file

from . import assert_one_line_error, chaos, reference_run, run_all, tree_hash

DAMAGES = ("truncated", "zero_length", "bitflip", "wrong_sha", "missing_json",
           "garbled_json")


def damage(pt: Path, how: str) -> None:
    data = pt.read_bytes()
    js = pt.with_suffix(".json")
    if how == "truncated":
        pt.write_bytes(data[: len(data) // 3])
    elif how == "zero_length":
        pt.write_bytes(b"")
    elif how == "bitflip":
        pos = len(data) // 2
        pt.write_bytes(data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1:])
    elif how == "wrong_sha":
        meta = json.loads(js.read_text())
        meta["sha256"] = "f" * 64
        js.write_text(json.dumps(meta))
    elif how == "missing_json":
        js.unlink()
    elif how == "garbled_json":
        js.write_text('{"kind": "latest", "episode": 3\x00, "sha')
    else:  # pragma: no cover
        raise ValueError(how)


def _copy(ref: Path, dest: Path) -> Path:
    shutil.copytree(ref, dest)
    return dest


def test_each_damage_class_falls_back_with_a_warning(tmp_path_factory, tmp_path: Path) -> None:
    ref = reference_run(tmp_path_factory)
    episodes = chaos.TINY_CONFIG["training"]["max_episodes"]
    cmds: dict[str, list[str]] = {}
    for how in DAMAGES:
        run = _copy(ref, tmp_path / f"train-{how}")
        damage(run / "checkpoints" / "latest.pt", how)
        # Train 2 episodes past the end: resumes from the fallback, then writes.
        cmds[f"train-{how}"] = chaos.rlcache_cmd(
            "train", "--resume", "auto", "-o", str(run), "--episodes", str(episodes + 2),
            "--quiet")
        run = _copy(ref, tmp_path / f"eval-{how}")
        damage(run / "checkpoints" / "latest.pt", how)
        cmds[f"eval-{how}"] = chaos.rlcache_cmd(
            "evaluate", "--checkpoint", str(run / "checkpoints" / "latest.pt"), "--json")
    results = run_all(cmds, width=3)
    for name, proc in results.items():
        assert proc.returncode == 0, (name, proc.stderr)
        assert "Traceback" not in proc.stderr, proc.stderr
        warnings = [line for line in proc.stderr.splitlines() if "is not usable" in line]
        assert warnings, (name, proc.stderr)
        assert "latest.pt" in warnings[0] and "using" in warnings[0], warnings
        # The newest intact one: the regular checkpoint of the same final episode.
        assert f"checkpoint_ep{episods_final(episodes)}.pt" in warnings[0], warnings
        if name.startswith("eval"):
            report = json.loads(proc.stdout)
            assert report["episodes"] == chaos.TINY_CONFIG["training"]["eval_episodes"]
        else:
            metrics = json.loads((tmp_path / name / "metrics.json").read_text())
            assert metrics["total_episodes"] == episodes + 2
    print(f"\ncorruption: {len(DAMAGES)} classes x (train --resume, evaluate) detected, "
          f"fell back with a warning naming latest.pt")


def episods_final(episodes: int) -> int:
    """The last regular checkpoint's episode (checkpoint_frequency 3)."""
    freq = chaos.TINY_CONFIG["training"]["checkpoint_frequency"]
    return episodes - episodes % freq


def test_nothing_intact_exits_2_and_changes_nothing(tmp_path_factory, tmp_path: Path) -> None:
    ref = reference_run(tmp_path_factory)
    cmds: dict[str, list[str]] = {}
    hashes: dict[str, dict[str, str]] = {}
    runs: dict[str, Path] = {}
    for i, how in enumerate(DAMAGES):
        run = _copy(ref, tmp_path / how)
        for pt in sorted((run / "checkpoints").glob("*.pt")):
            damage(pt, DAMAGES[(i + len(pt.name)) % len(DAMAGES)] if how != "wrong_sha"
                   else how)
        damage(run / "checkpoints" / "latest.pt", how)  # latest: this class for sure
        hashes[how], runs[how] = tree_hash(run), run
        target = ["auto", "-o", str(run)] if i % 2 else [str(run / "checkpoints")]
        cmds[f"train-{how}"] = chaos.rlcache_cmd("train", "--resume", *target,
                                                 "--episodes", "40", "--quiet")
        cmds[f"eval-{how}"] = chaos.rlcache_cmd("evaluate", "--checkpoint",
                                                str(run / "checkpoints" / "latest.pt"))
    for proc in run_all(cmds, width=3).values():
        line = assert_one_line_error(proc.returncode, proc.stderr, proc.stdout)
        assert "no intact checkpoint" in line and "latest.pt" in line, line
    for how, run in runs.items():
        assert tree_hash(run) == hashes[how], how


class _CreatesFile:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("consistent_hash", [True, False])
def test_pickled_object_is_refused_and_never_runs(tmp_path_factory, tmp_path: Path,
                                                  consistent_hash: bool) -> None:
    ref = reference_run(tmp_path_factory)
    cmds: dict[str, list[str]] = {}
    markers: list[Path] = []
    runs: dict[str, Path] = {}
    for what in ("train", "evaluate"):
        run = _copy(ref, tmp_path / what)
        marker = tmp_path / f"pwned-{what}"
        markers.append(marker)
        latest = run / "checkpoints" / "latest.pt"
        payload = torch.load(latest, weights_only=True)
        payload["agent"]["evil"] = _CreatesFile(str(marker))
        torch.save(payload, latest)
        if consistent_hash:  # a tamperer who also rewrote the JSON's hash
            meta = json.loads(latest.with_suffix(".json").read_text())
            meta["sha256"] = sha256_file(latest)
            latest.with_suffix(".json").write_text(json.dumps(meta))
        runs[what] = run
    hashes = {k: tree_hash(v) for k, v in runs.items()}
    cmds["train"] = chaos.rlcache_cmd("train", "--resume",
                                      str(runs["train"] / "checkpoints" / "latest.pt"),
                                      "--episodes", "40", "--quiet")
    cmds["evaluate"] = chaos.rlcache_cmd("evaluate", "--checkpoint",
                                         str(runs["evaluate"] / "checkpoints" / "latest.pt"))
    results = run_all(cmds, width=2)
    for name, proc in results.items():
        if consistent_hash:
            line = assert_one_line_error(proc.returncode, proc.stderr, proc.stdout)
            assert "needs pickle" in line and "latest.pt" in line, line
            assert tree_hash(runs[name]) == hashes[name]
        else:
            # The hash no longer matches: a damaged file, skipped with a warning and
            # never unpickled; the intact regular checkpoint is used.
            assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
            assert "latest.pt" in proc.stderr and "is not usable" in proc.stderr
    for marker in markers:
        assert not marker.exists(), "the pickled object's __reduce__ ran"
