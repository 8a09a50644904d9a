"""The shipped general policy (``pretrained``, issue 18) and the bench that makes it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from rlcache.cache.generators import generate
from rlcache.policy import load_policy, pretrained_path
from tests.cli.conftest import rlcache

ROOT = Path(__file__).resolve().parents[2]


def test_pretrained_is_the_general_policy() -> None:
    """What README and docs/PRETRAINED.md say: configs/cache_general.yaml's agent, history
    features, trained on the four shared traces' first halves and the synthetic families."""
    policy = load_policy(pretrained_path())
    assert policy.decisions["features"] == "history"
    assert len(policy.candidates) == 16
    env = policy.env
    assert env["mix_episodes"] is True
    traces = [p for p in env["mix"] if "trace" in p]
    assert sorted(Path(p["trace"]).name.split(".")[0] for p in traces) == \
        ["arc_oltp", "cache2k_web12", "cloudPhysicsIO", "twitter_c52"]
    assert {p["split"] for p in traces} == {"train"}
    assert {p["workload"] for p in env["mix"] if "trace" not in p} >= {"zipf", "loop", "churn"}
    assert policy.meta["training"]["run_config"]["training"]["max_episodes"] == 120


def test_evaluate_pretrained_on_a_trace_file(tmp_path: Path) -> None:
    trace = tmp_path / "t.txt"
    trace.write_text("\n".join(str(int(i)) for i in generate("zipf", 4000, 800, 5).ids))
    proc = rlcache("evaluate", "--policy", "pretrained", "--trace", str(trace),
                   "--cache-size", "0.05", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["agent"]["requests"] == 4000
    assert out["LRU"]["hit_ratio"] <= out["BELADY"]["hit_ratio"]


def test_evaluate_pretrained_without_a_trace_asks_for_one(tmp_path: Path) -> None:
    """Its training parts are one per episode (and their paths another machine's): no
    single trace to replay by default, so one line asks for --trace or --workload."""
    proc = rlcache("evaluate", "--policy", "pretrained", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "rlcache: error: the agent trained on 10 env.mix parts, one per episode: give "
        "--trace FILE or --workload NAME to judge it on"]
    assert not list(tmp_path.iterdir())


def test_general_config_loads_without_reading_traces() -> None:
    from rlcache.config import load_run_config

    config = load_run_config(ROOT / "configs" / "cache_general.yaml")
    env = config.env_config()
    assert env.mix_episodes and env.features == "history"
    assert config.training.eval_episodes == 12  # 4 real validation slices x 3 sizes


def _bench():  # bench/pretrained.py, imported from its file
    spec = importlib.util.spec_from_file_location("pretrained_bench",
                                                  ROOT / "bench" / "pretrained.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(agent: float) -> dict[str, float]:
    heur = {"LRU": 0.30, "LFU": 0.2, "FIFO": 0.28, "ARC": 0.33, "LRFU": 0.31, "S3FIFO": 0.34,
            "SIEVE": 0.32, "LeCaR": 0.3, "Cacheus": 0.3}
    return {**heur, "agent": agent, "BELADY": 0.44, "capacity": 10}


def test_bench_chooses_on_validation_and_writes_the_table() -> None:
    bench = _bench()
    cases = [f"{t}|{s}" for t in bench.rt.TRACES for s in bench.rt.SIZES]
    results = {"val|seed0": {c: _rows(0.33) for c in cases},  # below S3FIFO everywhere
               "val|seed1": {c: _rows(0.36) for c in cases}}
    assert bench.choose_seed(results, [0, 1]) == 1
    for seed, agent in ((0, 0.33), (1, 0.36)):
        results[f"seed{seed}|train_s"] = 100.0
        results.update({f"seed{seed}|{c}": _rows(agent) for c in cases})
    results.update({f"shipped|{c}": _rows(0.30) for c in cases})
    results["shipped_seed"] = 1
    doc = bench.markdown(results, "CMD")
    assert "Shipped policy: 12 of 12 at or above the best heuristic" in doc
    assert "Previous pretrained: 0 of 12" in doc
    assert "| cloudPhysicsIO | 0.1% | 10 | **0.3600** | 0.3450 [0.3300, 0.3600] | 0.3000 |" \
        in doc
