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


def _serve(cache: LearnedCache, ids: list[int]) -> list[bool]:
    out = []
    for key in ids:
        try:
            cache[key]
            out.append(True)
        except KeyError:
            cache[key] = key
            out.append(False)
    return out


@pytest.mark.skipif(not compiled_available(), reason="rlcache.engine is not installed")
def test_a_budget_and_forgetting_run_compiled(exported: Path) -> None:
    """The history kernel stops at the decision under a budget (a roomy budget: the
    plain decisions; a budget every decision misses: LRU's, as on the reference engine)
    and forgets keys, so the bound holds and decisions agree until a forgotten key
    returns."""
    policy = load_policy(exported / "p.npz")
    assert type(make_engine(policy, CAP, budget=1.0)) is CompiledPolicyEngine
    ids = generate("zipf_scan", n_requests=N, n_objects=1500, seed=2).ids.tolist()
    plain = LearnedCache(CAP, policy, horizon=N, history=None)
    ref = _serve(plain, ids)
    roomy = LearnedCache(CAP, policy, horizon=N, history=None, budget_us=1e7)
    assert _serve(roomy, ids) == ref and roomy.stats.fallbacks == 0
    late = [LearnedCache(CAP, policy, horizon=N, budget_us=1e-6, engine=e) for e in ENGINES]
    got = [_serve(c, ids) for c in late]
    assert got[0] == got[-1] and list(late[0]) == list(late[-1])
    assert late[-1].stats.fallbacks == late[-1].stats.decisions > 0
    small = LearnedCache(CAP, policy, horizon=N, history=0)
    seen = []
    hits = []
    for key in ids:
        seen.append(key in small._id)
        hits += _serve(small, [key])
    bound = small._bound
    assert len(small._keys) <= CAP + bound + 1 < len(plain._keys)
    first = next(i for i, (k, s) in enumerate(zip(ids, seen, strict=True))
                 if not s and k in ids[:i])
    assert first > bound and hits[:first] == ref[:first]
