"""rlcache sweep on real Ray (num_cpus=2, loopback only), tiny budgets.

One loopback cluster (``ray start --head`` on 127.0.0.1) serves the cluster tests; one
sweep starts local Ray in-process, the default.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray.tune")

from rlcache.config import load_run_config
from rlcache.errors import UserError
from rlcache.sweep.runner import EXTRA_SECTIONS, SweepOptions, prepare
from rlcache.sweep.scheduler import parse_scheduler
from rlcache.sweep.space import parse_search
from tests.ray_cluster import cluster_fixture, ray_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TINY = ["training.max_episodes=6", "training.eval_frequency=2", "training.eval_episodes=1",
        "training.checkpoint_frequency=2", "training.max_steps_per_episode=20",
        "env.episode_length=20", "rl.learning_starts=20", "rl.batch_size=16",
        "rl.buffer_size=1000", "rl.hidden_sizes=[16]", "scheduler.type=fifo"]
SETS = [arg for item in TINY for arg in ("--set", item)]


def sweep(*args: str, env: dict[str, str] | None = None,
          timeout: float = 150) -> subprocess.CompletedProcess[str]:
    """``rlcache sweep ARGS`` in a subprocess."""
    return subprocess.run([str(BIN / "rlcache"), "sweep", *args], cwd=ROOT, env=env or ray_env(),
                          capture_output=True, text=True, timeout=timeout)


def attempts(run_dir: Path) -> list[dict[str, int]]:
    """The starts a trial logged."""
    lines = (run_dir / "sweep_attempts.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def sweep_file(folder: Path, search: str) -> Path:
    """configs/mock.yaml plus a ``search:`` section."""
    path = folder / "sweep.yaml"
    path.write_text((ROOT / "configs" / "mock.yaml").read_text() + f"search: {search}\n")
    return path


cluster = cluster_fixture("rlc-ray")


# --------------------------------------------------------------------------- no Ray


def test_search_and_scheduler_are_checked_before_ray() -> None:
    base = load_run_config(ROOT / "configs" / "sweep_mock.yaml", extra_sections=EXTRA_SECTIONS)
    assert set(parse_search(base.extra["search"], base)) == {
        "rl.learning_rate", "rl.gamma", "rl.batch_size"}
    bad = [({"rl.learning_rat": {"choice": [1e-3]}}, "learning_rat"),
           ({"rl.batch_size": {"choice": ["big"]}}, "rl.batch_size"),
           ({"rl.gamma": {"normal": [0, 1]}}, "unknown domain"),
           ({"rl.learning_rate": {"loguniform": [0, 1]}}, "0 < low"),
           ({"training.eval_frequency": {"randint": [5, 5]}}, "low < high"),
           ({"learning_rate": {"choice": [1]}}, "dotted key")]
    for search, words in bad:
        with pytest.raises(UserError, match=words):
            parse_search(search, base)
    assert parse_scheduler({"type": "asha"}, base).metric == "eval_mean_reward"
    with pytest.raises(UserError, match=r"scheduler\.type"):
        parse_scheduler({"type": "pbt"}, base)
    with pytest.raises(UserError, match="hit_ratio needs env cache"):
        parse_scheduler({"metric": "hit_ratio"}, base)


def test_every_sampled_point_is_checked_before_ray(tmp_path: Path) -> None:
    """A domain reaching an invalid value (at its extremes, alone or combined) is one line
    before Ray starts: no trial, no retries, no output folder."""
    base = load_run_config(ROOT / "configs" / "sweep_mock.yaml", extra_sections=EXTRA_SECTIONS)
    bad = [({"rl.batch_size": {"choice": [32, 0]}}, r"rl\.batch_size=0"),
           ({"rl.gamma": {"uniform": [0.9, 1.585]}}, r"rl\.gamma=1\.585: rl\.gamma"),
           ({"training.eval_frequency": {"randint": [-3, 5]}}, "training.eval_frequency=-3"),
           ({"rl.exploration_fraction": {"uniform": [0.1, 0.5]}}, "needs a step budget"),
           ({"env.episode_length": {"choice": [20, 0]}}, "env.episode_length=0")]
    for search, words in bad:
        with pytest.raises(UserError, match=words):
            parse_search(search, base)
    assert parse_search({"rl.gamma": {"uniform": [0.5, 1.0]}}, base)  # 1.0 is never drawn
    out = tmp_path / "never"
    proc = sweep("--config", str(ROOT / "configs" / "sweep_mock.yaml"), "-o", str(out), "-q",
                 "--set", "search.rl.gamma={uniform: [0.9, 1.585]}")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("rlcache: error: search.rl.gamma: a trial would fail at "
                                  "rl.gamma=1.585: rl.gamma: expected a number in [0, 1]")
    assert len(proc.stderr.splitlines()) == 1 and not out.exists()


def test_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="nothing to sweep"):
        prepare(SweepOptions(config_path=str(ROOT / "configs" / "mock.yaml"),
                             output=tmp_path / "a"))
    with pytest.raises(UserError, match="no sweep to resume"):
        prepare(SweepOptions(resume=True, output=tmp_path))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(UserError, match="not empty"):
        prepare(SweepOptions(config_path=str(ROOT / "configs" / "sweep_mock.yaml"),
                             output=tmp_path / "busy"))
    proc = sweep("--config", str(ROOT / "configs" / "sweep_mock.yaml"), "--samples", "0")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("rlcache: error: --samples") and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- real Ray


def test_two_trial_sweep_on_local_ray_writes_a_best_config_that_trains(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    config = sweep_file(tmp_path, "{rl.gamma: {grid: [0.8, 0.9]}}")
    proc = sweep("--config", str(config), "--output", str(out), "--num-cpus", "2", *SETS)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("trial,status")
    assert (out / "curves.png").stat().st_size > 0
    assert "Best config:" in proc.stdout
    best = out / "best_config.yaml"
    text = best.read_text()
    assert "search:" not in text and "scheduler:" not in text
    for run_dir in (out / "runs").iterdir():
        assert (run_dir / "checkpoints" / "latest.pt").exists()
        assert json.loads((run_dir / "metrics.json").read_text())["total_episodes"] == 6
    train = subprocess.run([str(BIN / "rlcache"), "train", "--config", str(best),
                            "--episodes", "2", "--output", str(tmp_path / "train"), "--quiet"],
                           cwd=ROOT, env=ray_env(), capture_output=True, text=True, timeout=120)
    assert train.returncode == 0, train.stderr
    assert json.loads((tmp_path / "train" / "metrics.json").read_text())["total_episodes"] == 2


def test_a_sweep_whose_trial_failed_exits_non_zero(tmp_path: Path) -> None:
    out = tmp_path / "failed"
    proc = sweep("--config", str(ROOT / "configs" / "mock.yaml"), "--seeds", "1",
                 "--max-failures", "0", "--num-cpus", "1", "--output", str(out), "--quiet",
                 *SETS, env=ray_env(RLCACHE_FAULT_AT_EPISODE="2"))
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("rlcache: error: 1 of 1 trials failed"), last
    assert (out / "results.csv").read_text().splitlines()[1].split(",")[1] == "ERROR"


@pytest.mark.slow  # ~35 s; the loopback cluster is exercised by the default run too
def test_crashed_trials_restart_from_their_checkpoint_on_a_loopback_cluster(
        tmp_path: Path, cluster: str) -> None:
    out = tmp_path / "seeds"
    proc = sweep("--config", str(ROOT / "configs" / "mock.yaml"), "--seeds", "2",
                 "--address", cluster, "--output", str(out), "--quiet", *SETS,
                 env=ray_env(RLCACHE_FAULT_AT_EPISODE="2"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "mean ± std" in proc.stdout and "(n=2)" in proc.stdout
    runs = sorted((out / "runs").iterdir())
    assert len(runs) == 2
    for run_dir in runs:
        starts = attempts(run_dir)
        assert [s["restored_from_episode"] for s in starts] == [0, 2], starts
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["total_episodes"] == 6
        assert [e["episode"] for e in metrics["evaluations"]] == [2, 4, 6]
    assert "training:" in (out / "best_config.yaml").read_text()


def test_interrupted_sweep_resumes_without_rerunning_finished_trials(
        tmp_path: Path, cluster: str) -> None:
    out = tmp_path / "resume"
    config = sweep_file(tmp_path, "{rl.gamma: {grid: [0.8, 0.9, 0.95]}}")
    args = ["--config", str(config), "--address", cluster, "--output", str(out),
            "--max-concurrent", "1", "--quiet", *SETS]
    first = sweep(*args, env=ray_env(RLCACHE_SWEEP_INTERRUPT_AFTER="1"))
    assert first.returncode == 130, first.stdout[-3000:] + first.stderr[-3000:]
    assert "--resume" in first.stderr
    assert not (out / "best_config.yaml").exists()
    done_before = {p.name for p in (out / "runs").iterdir()
                   if json.loads((p / "metrics.json").read_text())["total_episodes"] == 6}
    assert len(done_before) >= 1

    second = sweep("--resume", "--output", str(out), "--address", cluster, "--quiet")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    runs = {p.name: p for p in (out / "runs").iterdir()}
    assert len(runs) == 3
    for name in done_before:
        assert len(attempts(runs[name])) == 1, f"{name} was rerun"
    for run_dir in runs.values():
        assert json.loads((run_dir / "metrics.json").read_text())["total_episodes"] == 6
    assert len((out / "results.csv").read_text().splitlines()) == 4
    assert (out / "best_config.yaml").exists()
