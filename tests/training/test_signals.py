"""Real SIGTERM / SIGINT sent to a training subprocess: emergency checkpoint, exit code,
and a resumed run that equals the uninterrupted one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REF_EPISODES, SCRIPT_PATH, assert_same_agent, load_metrics, script


def _start(out: Path, delay: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT_PATH), str(out), "--episodes", str(REF_EPISODES),
         "--step-delay", str(delay)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.stdout.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_run_saves_emergency_and_resume_is_exact(
        reference_run, tmp_path: Path, signum: int, code: int) -> None:
    out = tmp_path / "run"
    proc = _start(out, delay=0.003)
    _wait_for(out / "checkpoints" / "latest.json", proc)  # written at episode 4
    time.sleep(0.15)
    proc.send_signal(signum)
    stdout, _ = proc.communicate(timeout=90)
    assert proc.returncode == code, stdout
    assert signal.Signals(signum).name in stdout and "emergency" in stdout
    meta = json.loads((out / "checkpoints" / "emergency.json").read_text())
    assert meta["kind"] == "emergency" and meta["exact"] is True
    assert 4 <= meta["episode"] < REF_EPISODES, "the signal should land mid-run"
    latest = json.loads((out / "checkpoints" / "latest.json").read_text())
    assert (latest["episode"], latest["total_steps"]) == (meta["episode"], meta["total_steps"])
    assert "emergency" in (out / "logs" / "training.log").read_text()

    resumed = script.build(out, REF_EPISODES)
    resumed.load_checkpoint(out)
    assert resumed.episode == meta["episode"]
    resumed.train()
    ref_dir, ref = reference_run
    assert load_metrics(out) == load_metrics(ref_dir)
    assert_same_agent(resumed.agent, ref.agent)


def test_second_sigint_aborts_at_once(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _start(out, delay=0.25)  # several seconds per episode
    _wait_for(out / "logs" / "training.log", proc)
    deadline = time.monotonic() + 60
    while "Starting training" not in (out / "logs" / "training.log").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=60)
    # Interpreter shutdown alone can take over a second on a loaded box; an episode
    # here takes far longer than this bound.
    assert time.monotonic() - sent < 5.0, "the second Ctrl-C must not wait for the episode"
    assert proc.returncode in (-signal.SIGINT, 130), stdout
    assert "KeyboardInterrupt" in stdout
    assert not (out / "checkpoints" / "emergency.pt").exists()
