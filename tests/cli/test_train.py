"""``rlcache train``, ``evaluate`` and ``plot`` through real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.cli.conftest import CONFIGS, SMALL, rlcache, tree_hash


def resolved(stdout: str) -> dict:
    """The YAML printed by ``--dry-run`` (after its comment line)."""
    return yaml.safe_load(stdout)


def test_precedence_defaults_yaml_set_flags_and_dry_run(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "training:\n  seed: 1\n  eval_episodes: 3\n  max_episodes: 7\n"
        "rl:\n  learning_rate: 0.01\n  discount: 0.5\n  batch_size: 16\n"
        "env:\n  name: mock\n  episode_length: 40\n")
    proc = rlcache("train", "-c", "c.yaml", "-o", "out", "--dry-run",
                   "--set", "rl.learning_rate=2e-2", "--set", "training.seed=2",
                   "--set", "rl.batch_size=32", "--set", "rl.hidden_sizes=[32, 16]",
                   "--seed", "3", "--agent-type", "double_dqn", "--steps", "900",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# rlcache train --dry-run")
    cfg = resolved(proc.stdout)
    assert cfg["rl"]["tau"] == 1.0 and cfg["training"]["patience"] == 50  # defaults
    assert cfg["training"]["eval_episodes"] == 3 and cfg["rl"]["gamma"] == 0.5  # YAML
    assert cfg["training"]["max_episodes"] == 7 and cfg["env"]["episode_length"] == 40
    assert cfg["rl"]["learning_rate"] == 0.02 and cfg["rl"]["batch_size"] == 32  # --set
    assert cfg["rl"]["hidden_sizes"] == [32, 16]
    assert cfg["training"]["seed"] == 3  # flag beats --set beats YAML
    assert cfg["rl"]["agent_type"] == "double_dqn" and cfg["rl"]["double_q"] is True
    assert cfg["training"]["max_total_steps"] == 900
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


def test_resume_episodes_is_the_total_and_output_defaults_to_the_run(run_copy: Path) -> None:
    proc = rlcache("train", "--resume", str(run_copy / "checkpoints" / "latest.pt"),
                   "-e", "25", "--quiet", cwd=run_copy.parent)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((run_copy / "metrics.json").read_text())
    assert metrics["total_episodes"] == 25 and len(metrics["episode_rewards"]) == 25
    config = yaml.safe_load((run_copy / "config.yaml").read_text())
    assert config["training"]["max_episodes"] == 25
    assert config["env"]["episode_length"] == 30  # the checkpoint's config carried over
    assert sorted(p.name for p in run_copy.parent.iterdir()) == ["run"]  # nothing elsewhere
    again = rlcache("train", "--resume", str(run_copy), "-e", "25", cwd=run_copy.parent)
    assert again.returncode == 0 and "nothing to train" in again.stdout


def test_resume_auto_on_empty_then_non_empty_folder(tmp_path: Path) -> None:
    args = ["train", "-c", str(CONFIGS / "default.yaml"), "-o", "run", "--resume", "auto",
            "--quiet", *SMALL]
    first = rlcache(*args, "-e", "4", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["total_episodes"] == 4
    second = rlcache(*args, "-e", "7", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["total_episodes"] == 7 and len(metrics["episode_lengths"]) == 7


def test_evaluate_json_writes_nothing(trained_run: Path, tmp_path: Path) -> None:
    before = tree_hash(trained_run)
    proc = rlcache("evaluate", "--checkpoint", str(trained_run / "checkpoints" / "best.pt"),
                   "--episodes", "3", "--seed", "5", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) >= {"mean_reward", "std_reward", "min_reward", "max_reward", "episodes"}
    assert report["episodes"] == 3
    assert report["min_reward"] <= report["mean_reward"] <= report["max_reward"]
    assert tree_hash(trained_run) == before and list(tmp_path.iterdir()) == []


def test_plot_one_and_two_runs(trained_run: Path, tmp_path: Path) -> None:
    one = rlcache("plot", str(trained_run), "--out", "one.png", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    two = rlcache("plot", str(trained_run), str(trained_run), "--out", "two.png", cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    for name in ("one.png", "two.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_help_of_every_command_has_an_example(tmp_path: Path) -> None:
    for args in ([], ["train"], ["evaluate"], ["plot"]):
        proc = rlcache(*args, "--help", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "Example" in proc.stdout and "rlcache" in proc.stdout
        if args == ["train"]:
            for option in ("--config", "--env", "--episodes", "--steps", "--resume",
                           "--output", "--seed", "--wandb", "--tensorboard", "--agent-type",
                           "--eval-episodes", "--set", "--dry-run", "--quiet"):
                assert option in proc.stdout, option
    version = rlcache("--version", cwd=tmp_path)
    assert version.returncode == 0 and "rlcache" in version.stdout
