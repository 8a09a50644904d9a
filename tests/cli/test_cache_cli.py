"""rlcache train / evaluate on the cache env: trace flags and the baseline comparison."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import CONFIGS, rlcache

TINY = ["--set", "env.requests=8000", "--set", "env.objects=800", "--set", "env.window=1500",
        "--set", "training.eval_frequency=2", "--set", "training.eval_episodes=1",
        "--set", "rl.learning_starts=200", "--episodes", "2", "-q"]


def test_train_with_workload_flags_then_evaluate_on_unseen_traces(tmp_path: Path) -> None:
    run = tmp_path / "run"
    trained = rlcache("train", "-c", str(CONFIGS / "cache.yaml"), "-o", str(run),
                      "--workload", "zipf_scan", "--cache-size", "0.05", *TINY, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    resolved = (run / "config.yaml").read_text()
    assert "workload: zipf_scan" in resolved and "cache_size: 0.05" in resolved

    same = rlcache("evaluate", "-k", str(run), "--json", cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    report = json.loads(same.stdout)
    assert {"agent", "LRU", "LFU", "FIFO", "ARC", "BELADY"} <= set(report)
    requests = report["LRU"]["requests"]
    assert all(row["requests"] == requests for row in report.values())
    assert report["BELADY"]["hits"] >= max(r["hits"] for r in report.values())
    for row in report.values():
        assert abs(row["hit_ratio"] + row["miss_ratio"] - 1.0) < 1e-9
    agent = report["agent"]  # the agent's replay alone, timed (compiled engine)
    assert agent["replay_seconds"] > 0
    assert agent["requests_per_second"] == agent["requests"] / agent["replay_seconds"]
    assert "replay buffer" not in same.stderr

    unseen = rlcache("evaluate", "-k", str(run), "--seed", "7", "--workload", "loop",
                     "--objects", "500", "--cache-size", "400", "--requests", "5000", cwd=tmp_path)
    assert unseen.returncode == 0, unseen.stderr
    assert "agent" in unseen.stdout and "BELADY" in unseen.stdout and "loop" in unseen.stdout

    bad = rlcache("evaluate", "-k", str(run), "--cache-size", "0", cwd=tmp_path)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "cache_size" in bad.stderr


def test_trace_options_refused_for_other_envs(tmp_path: Path) -> None:
    run = tmp_path / "mock"
    trained = rlcache("train", "-c", str(CONFIGS / "mock.yaml"), "-o", str(run), "-e", "1",
                      "--set", "env.episode_length=5", "-q", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    bad = rlcache("evaluate", "-k", str(run), "--workload", "zipf", cwd=tmp_path)
    assert bad.returncode == 2 and "cache-env" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_trace_too_big_for_memory_is_one_line(tmp_path: Path) -> None:
    """numpy refuses the 8 TB trace at once: exit 1, one line naming the sizes to cut,
    and no run folder."""
    run = tmp_path / "huge"
    proc = rlcache("train", "--env", "cache", "--set", "env.requests=1000000000000",
                   "-o", str(run), "-e", "1", cwd=tmp_path)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("rlcache: error: out of memory")
    assert "env.requests" in lines[0] and not run.exists()
