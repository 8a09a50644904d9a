"""The opt-in shadow candidate sources of CacheState (cold, hot, clock) against brute force."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from rlcache.cache import generate
from rlcache.cache.state import EXTRA_SOURCES, CacheState
from rlcache.envs.cache_env import CacheEnv
from rlcache.errors import UserError


def brute_cold(st: CacheState) -> int:
    """Oldest inserted resident never hit since insertion, else the LRU one."""
    cold = [y for y in st.slots if st.freq[y] == 1]
    if not cold:
        return min(st.slots, key=st.last_access.__getitem__)
    return min(cold, key=st.insert_time.__getitem__)


def brute_hot(st: CacheState) -> int:
    """Least recently used resident hit since insertion, else the LRU one."""
    hot = [y for y in st.slots if st.freq[y] > 1] or st.slots
    return min(hot, key=st.last_access.__getitem__)


def clock_hits(ids: list[int], capacity: int) -> int:
    """CLOCK (second chance) as a plain reference: ring in insertion order, hand at the
    oldest, a referenced object is moved behind with its bit cleared."""
    ring: OrderedDict[int, bool] = OrderedDict()
    hits = 0
    for x in ids:
        if x in ring:
            hits += 1
            ring[x] = True
            continue
        if len(ring) >= capacity:
            while True:
                y, referenced = next(iter(ring.items()))
                ring.pop(y)
                if not referenced:
                    break
                ring[y] = False
        ring[x] = False
    return hits


@pytest.mark.parametrize("workload", ["zipf", "zipf_scan", "shift"])
def test_cold_and_hot_are_brute_force_choices(workload: str) -> None:
    trace = generate(workload, 6_000, 800, seed=3)
    st = CacheState(trace, 60, seed=1)
    decisions = 0
    while st.advance():
        cold, hot = st.victim("cold"), st.victim("hot")
        assert cold == brute_cold(st)
        assert hot == brute_hot(st)
        # Evict from all kinds of sources so the lazy logs see every path.
        st.evict([cold, hot, st.victim("random"), st.victim("lru")][decisions % 4])
        decisions += 1
    assert decisions > 1000


@pytest.mark.parametrize("capacity", [1, 7, 90])
def test_clock_played_alone_is_clock(capacity: int) -> None:
    trace = generate("zipf", 8_000, 1_000, seed=5)
    st = CacheState(trace, capacity)
    st.play("clock")
    assert st.hits == clock_hits(trace.object_index.tolist(), capacity)


def test_sources_are_opt_in_for_the_env() -> None:
    small = {"workload": "zipf", "requests": 6_000, "objects": 800, "cache_size": 60,
             "window": 2_000}
    env = CacheEnv.from_kwargs(**small, candidates=["lru", *EXTRA_SOURCES])
    obs, _ = env.reset(seed=0)
    assert env.action_space.n == 4 and obs.shape == env.observation_space.shape
    for a in (1, 2, 3):
        assert env.baseline_hits("lru") >= 0
        env.step(a)
    with pytest.raises(UserError, match="candidates"):
        CacheEnv.from_kwargs(**small, candidates=["lru", "arcx"])


def test_sourced_features_flag_the_proposing_sources() -> None:
    from rlcache.cache.state import ALL_SOURCES
    from rlcache.envs.features import EXT_CANDIDATE_FEATURES, feature_set_names

    sources = ["lru", "cold", "hot", "clock", "random"]
    small = {"workload": "zipf", "requests": 6_000, "objects": 800, "cache_size": 60,
             "window": 2_000}
    ext = CacheEnv.from_kwargs(**small, candidates=sources, features="extended")
    env = CacheEnv.from_kwargs(**small, candidates=sources, features="sourced")
    names = feature_set_names("sourced", len(sources))
    assert env.observation_space.shape == (len(names),) == (22 * 5 + 4,)
    nb, nf = len(EXT_CANDIDATE_FEATURES), 22
    o_ext, _ = ext.reset(seed=4)
    obs, _ = env.reset(seed=4)
    for _ in range(50):
        cands = env._cands
        for j, y in enumerate(cands):
            block = obs[j * nf:(j + 1) * nf]
            # The extended part is the extended set's, bit for bit.
            assert np.array_equal(block[:nb], o_ext[j * nb:(j + 1) * nb])
            want = {ALL_SOURCES.index(s) for s, z in zip(sources, cands, strict=True)
                    if z == y}
            assert {i for i in range(9) if block[nb + i] == 1.0} == want
            assert set(block[nb:].tolist()) <= {0.0, 1.0}
        assert np.array_equal(obs[-4:], o_ext[-4:])
        o_ext, *_ = ext.step(2)
        obs, *_ = env.step(2)

