"""--wandb without credentials is a user error caught before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import CONFIGS


def test_wandb_without_credentials_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WANDB_") and k != "NETRC"}
    env.update(HOME=str(tmp_path), MPLBACKEND="Agg")
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "rlcache.cli", "train", "-c", str(CONFIGS / "mock.yaml"),
         "-o", str(out), "-e", "1", "--wandb"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "WANDB_MODE=offline" in lines[0]
    assert not out.exists()
