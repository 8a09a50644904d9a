"""rlcache export and evaluate --policy through real subprocesses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rlcache.evaluation import TIMING_KEYS
from tests.cli.conftest import CONFIGS, assert_user_error, rlcache, run_parallel, tree_hash

TINY = ["--set", "env.requests=6000", "--set", "env.objects=600", "--set", "env.window=1500",
        "--set", "training.eval_frequency=2", "--set", "training.eval_episodes=1",
        "--set", "rl.learning_starts=200", "--episodes", "2", "-q"]


@pytest.fixture(scope="module")
def cache_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-episode cache run on a small zipf trace."""
    cwd = tmp_path_factory.mktemp("cache_run")
    proc = rlcache("train", "-c", str(CONFIGS / "cache.yaml"), "-o", "run", *TINY, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd / "run"


def test_export_then_evaluate_policy_gives_the_checkpoints_json(cache_run: Path,
                                                                tmp_path: Path) -> None:
    out = rlcache("export", str(cache_run), "-o", "p.npz", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Exported" in out.stdout and "7 candidates" in out.stdout
    trace = ["--workload", "loop", "--objects", "300", "--requests", "4000",
             "--cache-size", "200"]
    jobs = {"ckpt": (["-m", "rlcache.cli", "evaluate", "-k", str(cache_run), "--json", *trace],
                     tmp_path),
            "policy": (["-m", "rlcache.cli", "evaluate", "--policy", "p.npz", "--json", *trace],
                       tmp_path),
            "same": (["-m", "rlcache.cli", "evaluate", "-p", "p.npz", "--json"], tmp_path),
            "text": (["-m", "rlcache.cli", "evaluate", "-p", "p.npz"], tmp_path)}
    res = run_parallel(jobs)
    for name, proc in res.items():
        assert proc.returncode == 0, (name, proc.stderr)
    ckpt, policy = json.loads(res["ckpt"].stdout), json.loads(res["policy"].stdout)
    for report in (ckpt, policy):  # wall times differ run to run; all else is equal
        assert all(report["agent"].pop(key) > 0 for key in TIMING_KEYS)
    assert policy == ckpt and policy["agent"]["requests"] == 4000
    assert json.loads(res["same"].stdout)["agent"]["requests"] == 6000
    assert "Policy: p.npz" in res["text"].stdout and "LRU" in res["text"].stdout


def test_evaluate_pretrained(tmp_path: Path) -> None:
    proc = rlcache("evaluate", "--policy", "pretrained", "--workload", "zipf", "--requests",
                   "3000", "--objects", "300", "--cache-size", "30", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["agent"]["requests"] == 3000 and 0 < report["agent"]["hit_ratio"] < 1
    assert set(report) >= {"agent", "LRU", "BELADY"}


def test_bad_input_is_one_line_and_creates_nothing(cache_run: Path, tmp_path: Path,
                                                   trained_run: Path) -> None:
    good = rlcache("export", str(cache_run / "checkpoints" / "latest.pt"), "-o", "p.npz",
                   cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    data = (tmp_path / "p.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    edited = bytearray(data)
    edited[len(data) // 3] ^= 0xFF
    (tmp_path / "edited.npz").write_bytes(bytes(edited))
    broken_run = tmp_path / "broken"
    shutil.copytree(cache_run, broken_run)
    for pt in (broken_run / "checkpoints").glob("*.pt"):
        pt.write_bytes(pt.read_bytes()[:100])
    before = tree_hash(tmp_path)
    m = ["-m", "rlcache.cli"]
    jobs = {
        "cut": ([*m, "evaluate", "--policy", "cut.npz"], tmp_path),
        "edited": ([*m, "evaluate", "--policy", "edited.npz"], tmp_path),
        "missing": ([*m, "evaluate", "--policy", "nope.npz"], tmp_path),
        "both": ([*m, "evaluate", "--policy", "p.npz", "-k", str(cache_run)], tmp_path),
        "episodes": ([*m, "evaluate", "--policy", "p.npz", "--episodes", "3"], tmp_path),
        "exists": ([*m, "export", str(cache_run), "-o", "p.npz"], tmp_path),
        "suffix": ([*m, "export", str(cache_run), "-o", "p.pt"], tmp_path),
        "nodir": ([*m, "export", str(cache_run), "-o", "no/such/p.npz"], tmp_path),
        "mock": ([*m, "export", str(trained_run), "-o", "mock.npz"], tmp_path),
        "torn": ([*m, "export", str(broken_run), "-o", "torn.npz"], tmp_path),
    }
    res = run_parallel(jobs)
    assert_user_error(res["cut"], "cut.npz", "not a readable policy file")
    assert_user_error(res["edited"], "edited.npz")
    assert_user_error(res["missing"], "nope.npz", "not found")
    assert_user_error(res["both"], "one of --checkpoint and --policy")
    assert_user_error(res["episodes"], "--episodes")
    assert_user_error(res["exists"], "p.npz", "--force")
    assert_user_error(res["suffix"], ".npz")
    assert_user_error(res["nodir"], "does not exist")
    assert_user_error(res["mock"], "cache env", "mock")
    assert_user_error(res["torn"], "no intact checkpoint")
    assert tree_hash(tmp_path) == before
