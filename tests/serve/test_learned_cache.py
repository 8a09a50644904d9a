"""LearnedCache behaves as a cachetools cache; its budget falls back to LRU; the lock wrapper."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cachetools import Cache, cached
from cachetools.keys import hashkey

from rlcache.cache import generate, simulate
from rlcache.policy import PolicyFileError, load_policy, pretrained_path
from rlcache.serve import LearnedCache, LockedCache
from rlcache.serve.engine import compiled_available
from tests.policy.helpers import TRAINED_EXTENDED, make_policy

POLICY = load_policy(TRAINED_EXTENDED)
ENGINES = ["reference"] + (["compiled"] if compiled_available() else [])


def test_cached_decorator_and_mapping_api() -> None:
    cache = LearnedCache(3, POLICY)
    assert isinstance(cache, Cache) and cache.maxsize == 3
    calls: list[object] = []

    @cached(cache)
    def square(x: object) -> str:
        calls.append(x)
        return f"{x}^2"

    keys: list[object] = [1, "a", (2, "b"), None]
    assert [square(k) for k in keys] == ["1^2", "a^2", "(2, 'b')^2", "None^2"]
    assert len(cache) == 3 and cache.currsize == 3 and cache.stats.evictions == 1
    resident = [k for k in keys if hashkey(k) in cache]
    assert len(resident) == 3
    before = len(calls)
    assert [square(k) for k in resident] == [f"{k}^2" for k in resident]
    assert len(calls) == before  # all hits
    s = cache.stats
    assert (s.hits, s.misses, s.decisions) == (3, 4, 1)
    gone = next(hashkey(k) for k in keys if hashkey(k) not in cache)
    assert cache.get(gone, "dflt") == "dflt" and cache.stats.misses == 5
    key = hashkey(resident[0])
    assert cache.pop(key) == f"{resident[0]}^2" and key not in cache and len(cache) == 2
    assert cache.pop(key, 7) == 7
    with pytest.raises(KeyError):
        cache.pop(key)
    del cache[hashkey(resident[1])]
    assert len(cache) == 1 and cache.stats.hits == 3


def test_evictions_go_through_popitem() -> None:
    evicted: list[object] = []

    class Logged(LearnedCache):
        def popitem(self):
            key, value = super().popitem()
            evicted.append(key)
            return key, value

    cache = Logged(4, POLICY)
    for k in range(20):
        cache[f"k{k}"] = k
        assert len(cache) == min(k + 1, 4)
    assert len(evicted) == 16 == cache.stats.evictions == cache.stats.decisions
    assert set(evicted).isdisjoint(cache) and len(set(evicted)) == 16
    # called directly (no insertion under way): the oldest inserted key, as in cachetools
    oldest = min(cache, key=lambda k: int(k[1:]))
    cache[oldest]  # a hit does not change that
    assert cache.popitem()[0] == oldest and len(evicted) == 17 and len(cache) == 3
    cache["new"] = 1
    assert len(cache) == 4 and cache.stats.evictions == 17
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(KeyError):
        cache.popitem()
    cache["x"] = 1
    assert cache["x"] == 1


def _replay(cache: LearnedCache, ids: list[int]) -> None:
    for k in ids:
        try:
            cache[k]
        except KeyError:
            cache[k] = k


@pytest.mark.parametrize("engine", ENGINES)
def test_time_budget_falls_back_to_exactly_lru(engine: str) -> None:
    tr = generate("zipf", n_requests=6000, n_objects=600, seed=3)
    ids = tr.ids.tolist()
    late = LearnedCache(60, POLICY, budget_us=1e-3, engine=engine)  # always over budget
    _replay(late, ids)
    s = late.stats
    assert s.fallbacks == s.decisions == s.evictions > 0
    assert s.hits == simulate(tr, "LRU", 60).hits
    assert s.policy_seconds > 0
    roomy = LearnedCache(60, POLICY, budget_us=1e9, engine=engine)
    free = LearnedCache(60, POLICY, engine=engine)
    _replay(roomy, ids)
    _replay(free, ids)
    assert roomy.stats.fallbacks == 0 and roomy.stats.hits == free.stats.hits > s.hits
    assert type(roomy._engine) is type(free._engine)


class _Clock:
    """perf_counter for the engines: decision d (two reads) takes 1 s when d % 3 == 0."""

    def __init__(self) -> None:
        self.calls = 0

    def perf_counter(self) -> float:
        c, self.calls = self.calls, self.calls + 1
        d = c // 2
        return 10.0 * d + (1.0 if c % 2 and d % 3 == 0 else 0.0)


@pytest.mark.skipif(not compiled_available(), reason="rlcache.engine is not installed")
def test_budget_falls_back_on_the_late_decisions_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every third decision late (a scripted clock): both engines replace exactly those
    by LRU's victim, so they keep the same keys; a plain access (the plugin's) too."""
    import rlcache.serve.engine as serve_engine
    import rlcache.serve.reference as serve_reference

    tr = generate("zipf_scan", n_requests=5000, n_objects=900, seed=4)
    ids = tr.ids.tolist()
    caches = []
    for engine in ENGINES:
        clock = _Clock()
        for module in (serve_engine, serve_reference):
            monkeypatch.setattr(module, "time", clock)
        cache = LearnedCache(50, POLICY, budget_us=5e5, engine=engine)
        _replay(cache, ids)
        caches.append(cache)
    ref, comp = caches
    s = comp.stats
    assert s.evictions == s.decisions == s.misses - 50 > 0
    assert s.fallbacks == (s.decisions + 2) // 3
    assert ref.stats == s._replace(policy_seconds=ref.stats.policy_seconds)
    assert list(ref) == list(comp)
    plain = LearnedCache(50, POLICY, engine="compiled")
    _replay(plain, ids)
    assert plain.stats.hits not in (s.hits, simulate(tr, "LRU", 50).hits)
    eng = comp._engine
    eng._clock = _Clock().perf_counter  # decision 0: late
    before = eng.fallbacks
    assert not eng.access(10**6) and eng.fallbacks == before + 1 and eng.victim >= 0


def test_a_long_replay_equals_the_whole_trace_engine() -> None:
    """Past the engine's first chunk of decay weights (65536 requests), request by
    request through LearnedCache as in one whole-trace replay (evaluate --policy's)."""
    from rlcache.serve import make_engine

    tr = generate("zipf_scan", n_requests=70_000, n_objects=3000, seed=6)
    cache = LearnedCache(120, POLICY, horizon=len(tr))
    _replay(cache, tr.ids.tolist())
    whole = make_engine(POLICY, 120, horizon=len(tr)).replay(tr.object_index)
    assert cache.stats.hits == whole
    assert cache._engine.engine.requests == len(tr)


def test_bad_arguments() -> None:
    for size in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="maxsize"):
            LearnedCache(size, POLICY)
    with pytest.raises(ValueError, match="budget_us"):
        LearnedCache(4, POLICY, budget_us=0)
    with pytest.raises(PolicyFileError, match=r"nope\.npz"):
        LearnedCache(4, Path("nope.npz"))
    assert LearnedCache(4).policy.meta["sha256"] == load_policy(pretrained_path()).meta["sha256"]
    with pytest.raises(ValueError, match="engine must be one of"):
        LearnedCache(4, POLICY, engine="fast")
    assert type(LearnedCache(4, POLICY, engine="compiled", budget_us=100)._engine).__name__ \
        == ("CompiledPolicyEngine" if compiled_available() else "PolicyEngine")


def test_mlp_policies_run_on_the_reference_engine(tmp_path: Path) -> None:
    path, _ = make_policy(tmp_path / "mlp.npz", network="mlp", features="basic", dueling=True)
    with pytest.raises(ValueError, match="compiled engine needs"):
        LearnedCache(4, path, engine="compiled")
    cache = LearnedCache(30, path)
    _replay(cache, generate("loop", n_requests=2000, n_objects=40, seed=0).ids.tolist())
    s = cache.stats
    assert s.decisions == s.evictions > 0 and s.hits + s.misses == 2000


def test_locked_cache_across_threads() -> None:
    inner = LearnedCache(50, POLICY)
    shared = LockedCache(inner)
    calls = [0]

    @cached(shared)
    def f(x: int) -> int:
        calls[0] += 1
        return x * 2

    tr = generate("zipf", n_requests=4000, n_objects=400, seed=5).ids.tolist()
    errors: list[BaseException] = []

    def work(part: list[int]) -> None:
        try:
            for x in part:
                assert f(x) == 2 * x
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(tr[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s = shared.stats
    assert s.hits + s.misses == len(tr) and len(shared) == 50 and shared.maxsize == 50
    # every new key's insertion follows a miss and, beyond the first 50, evicts one
    assert len(inner._ids) - 50 <= s.evictions <= s.misses - 50
    assert shared.get(-1) is None and shared.pop(-1, 3) == 3


@pytest.mark.skipif(not compiled_available(), reason="rlcache.engine is not installed")
def test_compiled_and_reference_engines_agree_under_mixed_operations() -> None:
    """Lookups, stores, updates, deletes, pops and direct popitems in a random order:
    both engines keep the same keys and count the same (the compiled one batches hits)."""
    rng = random.Random(7)
    caches = [LearnedCache(25, POLICY, engine=e) for e in ("reference", "compiled")]
    assert type(caches[1]._engine).__name__ == "CompiledPolicyEngine"
    for step in range(6000):
        op, key = rng.random(), rng.randrange(120) if rng.random() < 0.8 else rng.randrange(10)
        for cache in caches:
            if op < 0.8:
                try:
                    cache[key]
                except KeyError:
                    cache[key] = step
            elif op < 0.9:
                cache[key] = -step
            elif op < 0.97:
                cache.pop(key, None)
            elif len(cache):
                cache.popitem()
        if step % 500 == 0 or step == 5999:
            assert list(caches[0]) == list(caches[1]), step
            assert caches[0].stats[:5] == caches[1].stats[:5], step
            assert caches[0]._engine.hits == caches[1]._engine.hits, step


def test_serving_imports_neither_torch_nor_gymnasium() -> None:
    code = ("import sys; from rlcache.serve import LearnedCache; c = LearnedCache(8); "
            "[c.__setitem__(i, i) for i in range(50)]; "
            "print(len(c), 'torch' in sys.modules, 'gymnasium' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    expected = "8 False True" if not compiled_available() else "8 False False"
    assert out.stdout.strip() == expected  # the reference engine uses the env's features
