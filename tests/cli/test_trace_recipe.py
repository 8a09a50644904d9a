"""configs/cache_trace.yaml end to end: a validation slice chooses best.pt, and evaluate
replays agents with opt-in sources and features through the reference path."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import CONFIGS, rlcache

TINY = ["--workload", "zipf", "--set", "env.requests=16000", "--set", "env.objects=1500",
        "--set", "env.split=train", "--set", "env.window=1500",
        "--set", "training.eval_frequency=1", "--set", "rl.learning_starts=200",
        "--episodes", "2", "-q"]
SHADOW = ["--set", "env.candidates=[lru,cold,hot,clock,random,random]",
          "--set", "env.features=sourced", "--set", "rl.candidate_features=22"]


def test_trace_recipe_selects_on_validation_and_evaluates_opt_in_agents(tmp_path: Path) -> None:
    run = tmp_path / "run"
    trained = rlcache("train", "-c", str(CONFIGS / "cache_trace.yaml"), "-o", str(run),
                      *TINY, *SHADOW, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert (run / "checkpoints" / "best.pt").is_file()
    evals = json.loads((run / "metrics.json").read_text())["evaluations"]
    # Each evaluation is the mean validation hit ratio over the three cache sizes.
    assert len(evals) == 2 and all(0.0 < e["mean_reward"] < 1.0 for e in evals)

    judged = rlcache("evaluate", "-k", str(run), "--split", "test", "--cache-size", "0.05",
                     "--json", cwd=tmp_path)
    assert judged.returncode == 0, judged.stderr
    report = json.loads(judged.stdout)
    assert report["agent"]["requests"] == report["LRU"]["requests"] == 8000
    assert report["LRU"]["hits"] <= report["BELADY"]["hits"]
    assert report["agent"]["hits"] <= report["BELADY"]["hits"]
