"""``history`` feature-set policies: exported from a real run, replayed by
``evaluate --policy`` and served by LearnedCache with the same hits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlcache.cache import generate, write_oracle_general
from rlcache.evaluation import TIMING_KEYS
from rlcache.policy import load_policy
from rlcache.serve import LearnedCache
from rlcache.serve.engine import (
    CompiledPolicyEngine,
    PolicyEngine,
    compiled_available,
    make_engine,
)
from tests.cli.conftest import CONFIGS, rlcache, run_parallel

TINY = ["--set", "env.features=history", "--set", "env.requests=6000",
        "--set", "env.objects=600", "--set", "env.window=1500",
        "--set", "training.eval_frequency=2", "--set", "training.eval_episodes=1",
        "--set", "rl.learning_starts=200", "--episodes", "2", "-q"]
N, CAP = 3000, 40
ENGINES = ["reference"] + (["compiled"] if compiled_available() else [])


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-episode history run on a small zipf trace, exported to ``p.npz`` beside it."""
    cwd = tmp_path_factory.mktemp("history_run")
    proc = rlcache("train", "-c", str(CONFIGS / "cache.yaml"), "-o", "run", *TINY, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    out = rlcache("export", "run", "-o", "p.npz", cwd=cwd)
    assert out.returncode == 0, out.stderr
    assert "history features" in out.stdout
    return cwd


def test_export_then_evaluate_policy_gives_the_checkpoints_json(exported: Path) -> None:
    trace = ["--workload", "zipf", "--objects", "500", "--requests", "4000",
             "--cache-size", "50"]
    m = ["-m", "rlcache.cli", "evaluate", "--json", *trace]
    res = run_parallel({"ckpt": ([*m, "-k", "run"], exported),
                        "policy": ([*m, "--policy", "p.npz"], exported)}, timeout=600)
    for name, proc in res.items():
        assert proc.returncode == 0, (name, proc.stderr)
    ckpt, policy = json.loads(res["ckpt"].stdout), json.loads(res["policy"].stdout)
    for report in (ckpt, policy):  # wall times differ run to run; all else is equal
        assert all(report["agent"].pop(key) > 0 for key in TIMING_KEYS)
    assert policy == ckpt and 0 < policy["agent"]["hits"] < 4000


@pytest.mark.parametrize("engine", ENGINES)
def test_learned_cache_gives_evaluate_policys_hits(exported: Path, engine: str) -> None:
    tr = generate("zipf", n_requests=N, n_objects=600, seed=5)
    path = exported / "z.oracleGeneral"
    if not path.exists():
        write_oracle_general(tr, path, unit_size=True)
    proc = rlcache("evaluate", "--policy", "p.npz", "--trace", str(path), "--cache-size",
                   str(CAP), "--json", cwd=exported)
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(proc.stdout)["agent"]["hits"]
    cache = LearnedCache(CAP, exported / "p.npz", horizon=N, engine=engine)
    expected = {"compiled": CompiledPolicyEngine, "reference": PolicyEngine}[engine]
    assert type(cache._engine) is expected
    for key in tr.ids.tolist():
        try:
            cache[key]
        except KeyError:
            cache[key] = key
    s = cache.stats
    assert s.hits + s.misses == N and s.evictions == s.misses - CAP
    assert s.hits == cli and 0 < cli < N


def test_a_budget_runs_on_the_reference_engine_or_is_refused(exported: Path) -> None:
    policy = load_policy(exported / "p.npz")
    assert type(make_engine(policy, CAP, budget=1.0)) is PolicyEngine
    if compiled_available():
        with pytest.raises(ValueError, match="history features"):
            make_engine(policy, CAP, budget=1.0, engine="compiled")
        assert type(make_engine(policy, CAP)) is CompiledPolicyEngine
    cache = LearnedCache(CAP, policy, budget_us=1e6)
    for key in generate("zipf", n_requests=500, n_objects=200, seed=1).ids.tolist():
        if cache.get(key) is None:
            cache[key] = key
    assert cache.stats.decisions > 0 and cache.stats.fallbacks == 0
