"""policy:FILE and agent:RUN cells: a trained run and its exported policy judge alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlcache.benchmark.cells import run_cell
from rlcache.benchmark.plan import make_cells, parse_policies
from rlcache.cache import read_trace
from rlcache.envs.trace_replay import evaluate_on_trace
from rlcache.policy import load_policy
from tests.cli.conftest import CONFIGS, rlcache

TINY = ["--set", "env.requests=6000", "--set", "env.objects=600", "--set", "env.window=1000",
        "--set", "training.eval_frequency=2", "--set", "training.eval_episodes=1",
        "--set", "rl.learning_starts=200", "--episodes", "2", "-q"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A two-episode cache run and its exported policy file."""
    folder = tmp_path_factory.mktemp("learned")
    run = folder / "run"
    proc = rlcache("train", "-c", str(CONFIGS / "cache.yaml"), "-o", str(run), *TINY,
                   cwd=folder)
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = rlcache("export", str(run), "-o", str(folder / "p.npz"), cwd=folder)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return run, folder / "p.npz"


def test_agent_and_its_policy_file_give_the_same_hits(trained, corpus: Path) -> None:
    run, policy = trained
    trace_path = corpus / "zipf.oracleGeneral.bin"
    names = parse_policies(f"agent:{run},policy:{policy}")
    rows = {row["policy"].split(":")[0]: row for row in
            map(run_cell, make_cells([trace_path], ["0.05"], names, "test"))}
    assert rows["agent"]["error"] == "" and rows["policy"]["error"] == ""
    assert rows["agent"]["hits"] == rows["policy"]["hits"] > 0
    assert rows["agent"]["checkpoint"].endswith(".pt")
    # The same number as evaluating the policy file directly on that half of the trace.
    _, test = read_trace(trace_path).split(0.5)
    loaded = load_policy(policy)
    cap = rows["policy"]["capacity"]
    env = {k: v for k, v in loaded.env.items() if k not in ("name", "workload")}
    direct = evaluate_on_trace(loaded.select, {**env, "cache_size": cap}, trace=test,
                               policies=())
    assert direct["agent"]["hits"] == rows["policy"]["hits"]


def test_a_run_that_is_not_a_run_fails_its_cells(tmp_path: Path, corpus: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "bad.npz").write_bytes(b"not a policy")
    names = parse_policies(f"agent:{tmp_path / 'junk'},policy:{tmp_path / 'bad.npz'}")
    for row in map(run_cell, make_cells([corpus / "zipf.oracleGeneral.bin"], ["0.1"],
                                        names[:2], None)):
        assert row["error"] and "\n" not in row["error"] and row.get("hits") is None
