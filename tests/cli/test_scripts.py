"""``scripts/train.py`` with the original flags, verbatim, and the runnable examples."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from tests.cli.conftest import ROOT, run, run_parallel


def verbatim(command: str) -> list[str]:
    """The README's ``python ...`` command as arguments for this interpreter."""
    words = shlex.split(command)
    assert words[0] == "python"
    return words[1:]


def test_original_script_commands_verbatim(tmp_path: Path) -> None:
    (tmp_path / "scripts").symlink_to(ROOT / "scripts")  # `python scripts/train.py` from a clone
    fresh = run(verbatim("python scripts/train.py --episodes 100 --output results/test_run"),
                tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    ckpts = tmp_path / "results" / "test_run" / "checkpoints"
    assert (ckpts / "latest.pt").is_file() and (ckpts / "best.pt").is_file()
    assert json.loads((ckpts / "latest.json").read_text())["episode"] == 100

    resumed = run(verbatim("python scripts/train.py --resume "
                           "results/test_run/checkpoints/latest.pt --episodes 200"), tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    metrics = json.loads((tmp_path / "results" / "test_run" / "metrics.json").read_text())
    assert metrics["total_episodes"] == 200 or metrics["stopped_early"]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["test_run"]

    evaluated = run(verbatim("python scripts/train.py --eval-only --checkpoint "
                             "results/test_run/checkpoints/best.pt"), tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "mean reward" in evaluated.stdout

    usage = run(["scripts/train.py", "--help"], tmp_path)
    assert usage.returncode == 0 and "Examples" in usage.stdout
    for flag in ("--config", "-c", "--episodes", "-e", "--resume", "-r", "--eval-only",
                 "--checkpoint", "--output", "-o", "--seed", "--wandb", "--agent-type",
                 "--eval-episodes"):
        assert flag in usage.stdout, flag


def test_examples_run(tmp_path: Path) -> None:
    names = ("quick_test_trainer.py", "demo_trainer.py")
    procs = run_parallel({name: ([str(ROOT / "examples" / name), str(tmp_path / name)],
                                 tmp_path) for name in names})
    for proc in procs.values():
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert "[FAIL]" not in proc.stdout
        assert "ALL TESTS PASSED" in proc.stdout or "DEMO COMPLETE" in proc.stdout
