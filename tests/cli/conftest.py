"""Helpers for CLI tests: run ``python -m rlcache.cli`` for real, hash folders, one trained run."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"

# A tiny, fast mock run: 20 episodes of at most 30 steps, evaluated every 10.
SMALL = ["--set", "env.episode_length=30", "--set", "training.eval_frequency=10",
         "--set", "training.eval_episodes=2", "--set", "training.checkpoint_frequency=10",
         "--set", "rl.learning_starts=100", "--set", "rl.buffer_size=5000"]


def cli_env() -> dict[str, str]:
    """The test process's environment, with a headless matplotlib."""
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    env.pop("RLCACHE_TORCH_THREADS", None)
    return env


def run(args: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` in ``cwd`` and capture its output."""
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=cli_env())


def rlcache(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``rlcache ARGS`` as a real subprocess (``python -m rlcache.cli``)."""
    return run(["-m", "rlcache.cli", *args], cwd, timeout)


def run_parallel(jobs: dict[str, tuple[list[str], Path]], width: int = 4,
                 timeout: float = 180) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run several ``python ARGS`` jobs (name -> (args, cwd)) at once, ``width`` at a time.

    Each subprocess spends most of its time importing torch; running a few side by side
    keeps the error-case tests quick on two cores.
    """
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    pending = list(jobs.items())
    running: list[tuple[str, list[str], subprocess.Popen[str]]] = []
    while pending or running:
        while pending and len(running) < width:
            name, (args, cwd) = pending.pop(0)
            cmd = [sys.executable, *args]
            running.append((name, cmd, subprocess.Popen(
                cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=cli_env())))
        name, cmd, proc = running.pop(0)
        out, err = proc.communicate(timeout=timeout)
        results[name] = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    return results


def tree_hash(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 for every file under ``folder`` (empty if it is missing)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_user_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, exactly one line on stderr starting ``rlcache: error:``, no traceback."""
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert lines[0].startswith(("rlcache: error: ", "train.py: error: ")), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 20-episode mock run (shared; copy it before changing it)."""
    cwd = tmp_path_factory.mktemp("trained")
    proc = rlcache("train", "-c", str(CONFIGS / "default.yaml"), "-o", "run", "-e", "20",
                   "--seed", "3", "--quiet", *SMALL, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd / "run"


@pytest.fixture
def run_copy(trained_run: Path, tmp_path: Path) -> Path:
    """A private copy of the trained run."""
    target = tmp_path / "run"
    shutil.copytree(trained_run, target)
    return target
