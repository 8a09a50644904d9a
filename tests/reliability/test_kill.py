"""SIGKILL at random instants (some inside checkpoint writes), resume with --resume auto,
and the finished run equals an uninterrupted one, metrics and weights.

More kills: ``python bench/chaos.py --kills 200`` (``--num-envs 3``: lockstep rounds).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from . import chaos, reference_config, reference_run

# 8 by default for the suite's 10-minute budget (12 until session 6); bench/chaos.py does
# hundreds, RLCACHE_CHAOS_KILLS=N more here
KILLS = int(os.environ.get("RLCACHE_CHAOS_KILLS", "8"))


def test_sigkill_at_random_instants_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    seed = int(os.environ.get("RLCACHE_CHAOS_SEED", random.randrange(1 << 30)))
    report = chaos.chaos(tmp_path, KILLS, seed, slow_write=0.02, width=2)
    print("\n" + report.summary())
    assert not report.failures, f"(rerun: RLCACHE_CHAOS_SEED={seed})\n" + report.summary()
    assert report.kills >= KILLS
    assert report.kills_by_mode["in_write"] >= KILLS // 3 - 1
    assert report.chains >= 2 and report.chains_equal == report.chains


@pytest.mark.slow  # ~30 s of CPU, ~2 min wall on 2 shared cores
def test_sigkill_at_num_envs_3_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    """The same at ``training.num_envs: 3`` (lockstep rounds; every checkpoint at a
    round's end). The default suite's cheaper proof: tests/training/test_vector.py resumes
    a vector run from each of its checkpoints."""
    seed = int(os.environ.get("RLCACHE_CHAOS_SEED", random.randrange(1 << 30)))
    kills = max(6, KILLS // 2)
    report = chaos.chaos(tmp_path, kills, seed, slow_write=0.02, width=2,
                         config=chaos.tiny_config(num_envs=3))
    print("\n" + report.summary())
    assert not report.failures, f"(rerun: RLCACHE_CHAOS_SEED={seed})\n" + report.summary()
    assert report.kills >= kills and report.kills_by_mode["in_write"] >= kills // 3 - 1
    assert report.chains >= 2 and report.chains_equal == report.chains


def _wait(pred, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert proc.poll() is None, f"exited early: {proc.communicate()}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_kill_before_first_checkpoint_resumes_fresh(tmp_path_factory, tmp_path: Path) -> None:
    """Killed inside its first checkpoint save (``latest.pt`` renamed, its JSON staged but
    not renamed), ``--resume auto`` rolls that save forward (or starts afresh had it not
    got that far) and the run still equals the reference."""
    ref = reference_run(tmp_path_factory)
    config = reference_config(tmp_path_factory)
    out = tmp_path / "run"
    # Killed inside the first save: latest.pt renamed, latest.json not yet.
    proc = chaos.start(chaos.train_cmd(config, out), slow_write=1.0)
    _wait(lambda: (out / "checkpoints" / "latest.pt").exists(), proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert (out / "config.yaml").exists()
    assert chaos.slot_states(out) == {"latest": "no-json"}
    done = subprocess.run(chaos.train_cmd(config, out), capture_output=True, text=True,
                          env=chaos.child_env(), timeout=240)
    assert done.returncode == 0, done.stderr
    assert chaos.compare_runs(out, ref) == []


def test_finished_run_whose_last_save_was_torn_is_rolled_forward(tmp_path_factory,
                                                                 tmp_path: Path) -> None:
    """Killed between the final save's two renames: latest.pt is the finished state, its
    JSON the previous save's, the new JSON staged. ``--resume auto`` has nothing to train
    but finishes that save, so the folder is whole again (no temp file, hashes match)."""
    ref = reference_run(tmp_path_factory)
    config = reference_config(tmp_path_factory)
    out = tmp_path / "run"
    shutil.copytree(ref, out)
    folder = out / "checkpoints"
    new_json = (folder / "latest.json").read_text()
    (folder / ".latest.json.killed.tmp").write_text(new_json)
    older_pt = sorted(folder.glob("checkpoint_ep*.pt"))[0]
    older = json.loads(older_pt.with_suffix(".json").read_text())
    (folder / "latest.json").write_text(json.dumps({**older, "kind": "latest"}))
    assert chaos.slot_states(out)["latest"] != "intact"
    done = subprocess.run(chaos.train_cmd(config, out), capture_output=True, text=True,
                          env=chaos.child_env(), timeout=240)
    assert done.returncode == 0, done.stderr  # --quiet: "nothing to train" is not printed
    assert (folder / "latest.json").read_text() == new_json
    assert not list(folder.glob(".*.tmp"))
    assert set(chaos.slot_states(out).values()) == {"intact"}
    assert chaos.compare_runs(out, ref) == []
