"""Policies against hand-checked examples and naive reference implementations."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlcache.cache import (
    NEVER,
    POLICIES,
    Trace,
    baseline_table,
    format_table,
    parse_capacity,
    simulate,
    simulate_many,
)
from rlcache.errors import UserError


def _next_use(ids: list[int], t: int, obj: int) -> int:
    for j in range(t + 1, len(ids)):
        if ids[j] == obj:
            return j
    return NEVER


def naive(ids: list[int], policy: str, cap: int, seed: int = 0) -> int:
    """Reference: a list of residents with per-object bookkeeping and O(n) victim search."""
    resident: list[int] = []
    last: dict[int, int] = {}
    inserted: dict[int, int] = {}
    freq: dict[int, int] = {}
    rng = random.Random(seed)
    hits = 0
    for t, x in enumerate(ids):
        if x in resident:
            hits += 1
            freq[x] += 1
        else:
            if len(resident) >= cap:
                if policy == "LRU":
                    v = min(resident, key=lambda o: last[o])
                elif policy == "MRU":
                    v = max(resident, key=lambda o: last[o])
                elif policy == "FIFO":
                    v = min(resident, key=lambda o: inserted[o])
                elif policy == "LFU":
                    v = min(resident, key=lambda o: (freq[o], last[o]))
                elif policy == "RANDOM":
                    v = resident[rng.randrange(cap)]
                elif policy == "BELADY":
                    v = max(resident, key=lambda o, t=t: _next_use(ids, t, o))
                else:
                    raise AssertionError(policy)
                resident[resident.index(v)] = x
            else:
                resident.append(x)
            inserted[x] = t
            freq[x] = 1
        last[x] = t
    return hits


def test_hand_checked_example() -> None:
    # a b c a d a b e, capacity 3
    tr = Trace(np.array([0, 1, 2, 0, 3, 0, 1, 4]))
    got = {p: simulate(tr, p, 3).hits for p in ("LRU", "FIFO", "LFU", "MRU", "BELADY")}
    # LRU: hit a(3); d evicts b; hit a(5); b evicts c; e evicts d -> 2 hits
    # FIFO: hit a; d evicts a; a evicts b; b evicts c; e evicts d -> 1 hit
    # LFU: a has 2; d evicts b (freq 1, older than c); a hit; b evicts c; e evicts d -> 2
    # MRU: hit a; d evicts a; a evicts d; b hit; e evicts b -> 2
    # MIN: hit a; d evicts c (never again); a hit; b hit; e -> 3
    assert got == {"LRU": 2, "FIFO": 1, "LFU": 2, "MRU": 2, "BELADY": 3}


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.integers(0, 12), min_size=1, max_size=120),
    cap=st.integers(1, 8),
    policy=st.sampled_from(["LRU", "FIFO", "LFU", "MRU", "RANDOM", "BELADY"]),
)
def test_matches_naive_reference(ids: list[int], cap: int, policy: str) -> None:
    assert simulate(Trace(np.array(ids)), policy, cap, seed=5).hits == naive(ids, policy, cap, 5)


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.integers(0, 30), min_size=1, max_size=200), cap=st.integers(1, 12))
def test_belady_is_an_upper_bound(ids: list[int], cap: int) -> None:
    results = simulate_many(Trace(np.array(ids)), POLICIES, cap)
    best = results["BELADY"].hits
    assert all(r.hits <= best for r in results.values())
    assert all(r.requests == len(ids) for r in results.values())


def test_belady_heap_compaction_long_trace() -> None:
    ids = np.random.default_rng(0).integers(0, 40, size=3000)
    assert simulate(Trace(ids), "BELADY", 5).hits == naive(ids.tolist(), "BELADY", 5)


def test_arc_sane_on_loop_and_zipf() -> None:
    loop = Trace(np.tile(np.arange(12), 50))
    assert simulate(loop, "ARC", 10).hits == 0
    assert simulate(loop, "ARC", 12).hits == len(loop) - 12


def test_bad_policy_and_capacity() -> None:
    tr = Trace(np.arange(5))
    with pytest.raises(UserError, match="unknown policy"):
        simulate(tr, "NOPE", 2)
    with pytest.raises(UserError):
        simulate(tr, "LRU", 0)
    assert simulate(tr, "min", 2).policy == "BELADY"


def test_parse_capacity() -> None:
    assert parse_capacity("0.01", 100_000) == 1000
    assert parse_capacity("1000", 100_000) == 1000
    assert parse_capacity(0.5, 10) == 5
    for bad in ("0", "-3", "100000", "2.5", "abc", "1.0e9"):
        with pytest.raises(UserError):
            parse_capacity(bad, 100_000)


def test_baseline_table_shape() -> None:
    tr = Trace(np.random.default_rng(1).zipf(1.3, size=5000) % 500)
    table = baseline_table(tr, 20, ["LRU", "arc", "BELADY"])
    assert list(table) == ["LRU", "ARC", "BELADY"]
    assert set(table["ARC"]) == {"hits", "requests", "hit_ratio", "miss_ratio", "gap_share"}
    assert table["LRU"]["gap_share"] == 0.0 and table["BELADY"]["gap_share"] == 1.0
    assert "ARC" in format_table(table)
    only = baseline_table(tr, 20, ["FIFO"])
    assert list(only) == ["FIFO"]
