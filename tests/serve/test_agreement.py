"""One engine behind three paths: `rlcache evaluate --policy`, LearnedCache replayed request
by request, and the libCacheSim plugin give the same hit count on the same trace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlcache.cache import generate, write_oracle_general
from rlcache.cache.readers import read_trace
from rlcache.cache.trace import Trace
from rlcache.policy import load_policy, pretrained_path
from rlcache.serve import LearnedCache, learned_plugin, unit_size_reader
from rlcache.serve.engine import compiled_available, compiled_supports
from tests.cli.conftest import run_parallel
from tests.policy.helpers import make_policy

lcs = pytest.importorskip("libcachesim")

TRACES = Path("/work/shared/traces")
N = 5000


def _real(name: str) -> Trace | None:
    path = TRACES / f"{name}.oracleGeneral.bin.zst"
    return read_trace(path).slice(0, N) if path.exists() else None


def _cases(tmp: Path) -> list[tuple[str, Trace, int, Path, int | None]]:
    """(name, trace, capacity, policy file, horizon) per case."""
    pre = pretrained_path()
    basic, _ = make_policy(tmp / "basic.npz", features="basic", seed=2,
                           candidates=["lru", "lfu", "random", "random", "mru"])
    shadow, _ = make_policy(tmp / "shadow.npz", seed=3,
                            candidates=["lru", "cold", "hot", "clock", "random"])
    cases = [("zipf", generate("zipf", n_requests=N, n_objects=800, seed=1), 80, pre, None),
             ("zipf_scan-shadow", generate("zipf_scan", n_requests=N, n_objects=900, seed=3),
              90, shadow, None),
             ("phased", generate("phased", n_requests=N, n_objects=1000, seed=2), 100, pre,
              None),
             ("zipf-basic", generate("zipf", n_requests=N, n_objects=800, seed=4), 60, basic,
              N)]
    for name, cap in (("cache2k_web12", 40), ("cloudPhysicsIO", 300)):
        tr = _real(name)
        if tr is not None:
            cases.append((name, tr, cap, pre, None))
    return cases


# "auto" is the compiled engine when present, else the reference one: both are here.
ENGINES = ["reference"] + (["compiled"] if compiled_available() else [])


def _learned_cache_hits(tr: Trace, cap: int, policy: Path, horizon: int | None,
                        engine: str) -> int:
    cache = LearnedCache(cap, policy, horizon=horizon, engine=engine)
    for key in tr.ids.tolist():
        try:
            cache[key]
        except KeyError:
            cache[key] = key
    s = cache.stats
    assert s.hits + s.misses == len(tr) and s.evictions == s.misses - cap
    return s.hits


def _plugin_hits(path: Path, n: int, cap: int, policy: Path, horizon: int | None,
                 engine: str) -> int:
    plugin = learned_plugin(cap, load_policy(policy), horizon=horizon, engine=engine)
    miss_ratio, _ = plugin.process_trace(unit_size_reader(path))
    engine_hits = plugin.rlcache.engine.hits
    assert round((1.0 - miss_ratio) * n) == engine_hits
    return engine_hits


def test_three_paths_give_the_same_hits(tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    assert len(cases) >= 6, [c[0] for c in cases]  # 4 synthetic + 2 real slices
    jobs = {}
    for name, tr, cap, policy, _ in cases:
        path = tmp_path / f"{name}.oracleGeneral"
        write_oracle_general(tr, path, unit_size=True)
        jobs[name] = (["-m", "rlcache.cli", "evaluate", "--policy", str(policy), "--trace",
                       str(path), "--cache-size", str(cap), "--json"], tmp_path)
    # The first run alone: a fresh checkout compiles the numba kernels once (on disk).
    first = next(iter(jobs))
    results = run_parallel({first: jobs.pop(first)}, width=1, timeout=600)
    results.update(run_parallel(jobs, width=2, timeout=600))
    for name, tr, cap, policy, horizon in cases:
        proc = results[name]
        assert proc.returncode == 0, (name, proc.stderr)
        report = json.loads(proc.stdout)
        cli = report["agent"]["hits"]
        assert report["agent"]["requests"] == len(tr)
        path = tmp_path / f"{name}.oracleGeneral"
        # evaluate --policy runs the "auto" engine; each engine on the other two paths
        got = [cli]
        for engine in ENGINES if compiled_supports(load_policy(policy)) else ["reference"]:
            got.append(_learned_cache_hits(tr, cap, policy, horizon, engine))
            got.append(_plugin_hits(path, len(tr), cap, policy, horizon, engine))
        assert len(set(got)) == 1, (name, ENGINES, got)
        # a real decision-maker: not LRU's hits in disguise on every trace
        assert 0 < cli < len(tr)
    lru_equal = [name for name, *_ in cases
                 if json.loads(results[name].stdout)["LRU"]["hits"]
                 == json.loads(results[name].stdout)["agent"]["hits"]]
    assert len(lru_equal) < len(cases)
