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


def _decayed_reference(tr: Trace, t: int, h: float) -> dict[int, float]:
    """sum over accesses k < t of 2^-((t - k) / h), per object index (the definition)."""
    out: dict[int, float] = {}
    for k, x in enumerate(tr.object_index[:t].tolist()):
        out[x] = out.get(x, 0.0) + 2.0 ** (-(t - k) / h)
    return out


@pytest.mark.parametrize("half_life", [None, 3.0, 0.05])
def test_decayed_count_matches_definition(half_life: float | None) -> None:
    """dcount is exact at every decision, across evictions and epoch rebases (tiny
    half-lives force many rebases: the epoch is 256 half-lives)."""
    tr = generate("zipf", n_requests=4_000, n_objects=200, seed=3)
    st = CacheState(tr, 10, seed=1, half_life=half_life)
    h = st.half_life
    assert h == (8.0 * 10 if half_life is None else half_life)
    checks = 0
    while st.advance():
        if st.evictions % 97 == 0:
            ref = _decayed_reference(tr, st.t, h)
            for y in set(st.residents()) | set(list(ref)[:20]):
                assert st.decayed_count(y) == pytest.approx(ref.get(y, 0.0), rel=1e-9,
                                                            abs=1e-300)
            checks += 1
        st.evict(st.victim("lru" if st.evictions % 3 else "random"))
    assert checks > 5
    st2 = CacheState(tr, 10, seed=1, half_life=half_life)
    st2.play("lru")
    assert st2.hits == simulate(tr, "LRU", 10, seed=1).hits


def test_decayed_count_window_and_bad_half_life() -> None:
    tr = Trace(np.array([9, 1, 2, 1, 3, 1, 2, 4, 9]))
    st = CacheState(tr, 2, start=1, stop=8, half_life=2.0)
    assert st.advance()  # window: 1 2 1 | 3 pending at t = 3
    x1, x2 = tr.object_index[1], tr.object_index[2]
    assert st.decayed_count(x1) == pytest.approx(2 ** -1.5 + 2 ** -0.5)
    assert st.decayed_count(x2) == pytest.approx(2 ** -1.0)
    assert st.decayed_count(tr.object_index[0]) == 0.0  # before the window
    with pytest.raises(ValueError, match="half_life"):
        CacheState(tr, 2, half_life=0)


@pytest.mark.parametrize("half_life", [None, 3.0, 0.05])
def test_lrfu_victim_is_the_smallest_decayed_count(half_life: float | None) -> None:
    """The lazy heap gives the resident of least decayed count at every decision, with
    hits, arbitrary evictions, re-insertions and epoch rebases in between."""
    tr = generate("zipf", n_requests=6_000, n_objects=150, seed=5)
    st = CacheState(tr, 12, seed=3, half_life=half_life)
    sources = ["lrfu", "lru", "random"]
    decisions = 0
    while st.advance():
        res = st.residents()
        want = min(res, key=lambda o: (st.dcount[o], o))
        assert st.dcount[st.lrfu_victim()] == st.dcount[want]
        st.evict(st.victim(sources[decisions % 3]))
        decisions += 1
    assert decisions > 1000


def test_lrfu_policy_sits_between_lru_and_lfu_on_shifting_popularity() -> None:
    """LRFU forgets: on Zipf whose popular set moves it beats LFU by far (ties LRU at
    worst), and on stationary Zipf it beats LRU."""
    shift = generate("shift", n_requests=40_000, n_objects=2_000, seed=2)
    zipf = generate("zipf", n_requests=40_000, n_objects=2_000, seed=2)
    hr = {name: {p: simulate(tr, p, 100).hit_ratio for p in ("LRU", "LFU", "LRFU")}
          for name, tr in (("shift", shift), ("zipf", zipf))}
    assert hr["shift"]["LRFU"] > hr["shift"]["LFU"] + 0.05
    assert hr["shift"]["LRFU"] >= hr["shift"]["LRU"]
    assert hr["zipf"]["LRFU"] > hr["zipf"]["LRU"] + 0.03
