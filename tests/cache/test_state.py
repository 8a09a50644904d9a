"""CacheState: always choosing one source reproduces that policy exactly."""

from __future__ import annotations

import numpy as np
import pytest

from rlcache.cache import CacheState, Trace, generate, simulate

PAIRS = [("lru", "LRU"), ("lfu", "LFU"), ("fifo", "FIFO"), ("mru", "MRU"), ("random", "RANDOM")]


@pytest.mark.parametrize(("source", "policy"), PAIRS)
@pytest.mark.parametrize("workload", ["zipf", "loop", "phased"])
def test_single_source_equals_policy(source: str, policy: str, workload: str) -> None:
    tr = generate(workload, n_requests=20_000, n_objects=600, seed=1)
    for cap in (7, 60):
        state = CacheState(tr, cap, seed=11)
        while state.advance():
            state.evict(state.victim(source))
        assert state.done and state.requests == len(tr)
        assert state.hits == simulate(tr, policy, cap, seed=11).hits


def test_window_and_metadata() -> None:
    tr = Trace(np.array([9, 1, 2, 1, 3, 1, 2, 4, 9]))
    st = CacheState(tr, 2, start=1, stop=8)
    assert st.advance()  # 1 2 1 | 3 misses with a full cache
    assert st.t == 3 and st.pending == 3 and st.hits == 1
    x1 = tr.object_index[1]
    assert st.freq[x1] == 2 and st.last_gap[x1] == 2 and st.last_access[x1] == 2
    assert st.next_use[x1] == 4  # window time of the next request of object 1
    assert st.candidates(["lru", "lfu", "fifo", "mru"]) == [2, 2, 1, 1]
    assert sorted(st.residents()) == [1, 2]
    st.evict(2)
    assert st.in_ghost(2) and not st.is_resident(2) and st.is_resident(3)
    assert st.advance()  # 1 hits, then 2 misses
    assert st.pending == 2 and st.hits == 2
    st.evict(st.lru_victim())  # evicts 3
    assert st.returns[2] == 1 and st.ghost_hits == 1
    assert st.mean_gap(x1) == 2.0
    st.play("lru")
    assert st.done and st.requests == 7 and st.evictions == 3


def test_bad_calls() -> None:
    st = CacheState(Trace(np.array([1, 2, 3])), 1)
    with pytest.raises(RuntimeError):
        st.lru_victim()
    with pytest.raises(RuntimeError):
        st.evict(1)
    assert st.advance() and st.pending == 2
    with pytest.raises(ValueError, match="not resident"):
        st.evict(3)
    with pytest.raises(ValueError, match="unknown candidate source"):
        st.victim("belady")


def test_arbitrary_choices_keep_structures_consistent() -> None:
    tr = generate("zipf", n_requests=20_000, n_objects=300, seed=4)
    st = CacheState(tr, 25, seed=2)
    rng = np.random.default_rng(0)
    while st.advance():
        cands = st.candidates(["lru", "lfu", "fifo", "mru", "random"])
        res = st.residents()
        assert len(res) == 25 and all(c in res for c in cands)
        lru = min(res, key=st.last_access.__getitem__)
        lfu = min(res, key=lambda o: (st.freq[o], st.last_access[o]))
        fifo = min(res, key=st.insert_time.__getitem__)
        mru = max(res, key=st.last_access.__getitem__)
        assert cands[:4] == [lru, lfu, fifo, mru]
        st.evict(cands[int(rng.integers(len(cands)))])
    assert st.requests == len(tr)
