"""The compiled replays give exactly the hits of their pure-Python twins (and CacheState)."""

from __future__ import annotations

import pytest

from rlcache.cache import NEVER, arc, compiled, generate, lrfu, simulate
from rlcache.cache import policies as ref
from rlcache.cache.state import CacheState

CAPS = (1, 2, 7, 50, 400)  # 1..7: LRFU's rebase (every 256 half-lives) happens many times


@pytest.fixture(scope="module", params=[("zipf", 0), ("zipf_scan", 1), ("phased", 2),
                                        ("churn", 4), ("loop", 5)])
def trace(request):
    workload, seed = request.param
    return generate(workload, n_requests=12_000, n_objects=1_200, seed=seed)


@pytest.mark.parametrize("name", ["lru", "fifo", "mru", "lfu", "arc"])
def test_compiled_equals_python(trace, name: str) -> None:
    python = arc.arc_hits if name == "arc" else getattr(ref, f"{name}_hits")
    req, size = trace.object_index, trace.index_size
    for cap in CAPS:
        want = python(req.tolist(), size, cap)
        assert getattr(compiled, f"{name}_hits")(req, size, cap) == want, cap


def test_compiled_belady_equals_python(trace) -> None:
    for cap in CAPS:
        want = ref.belady_hits(trace.next_access.tolist(), cap)
        assert compiled.belady_hits(trace.next_access, cap, NEVER) == want, cap


def test_lrfu_equals_cache_state(trace) -> None:
    for cap in CAPS:
        st = CacheState(trace, cap, half_life=8.0 * cap)
        st.play("lrfu")
        assert simulate(trace, "LRFU", cap).hits == st.hits, cap
    assert lrfu.lrfu_hits.__doc__
