"""LearnedCache's memory stays bounded however many distinct keys pass (``history``): ids of
keys forgotten long after they left are reused, and decisions match the unbounded cache's
until a forgotten key comes back."""

from __future__ import annotations

import numpy as np
import pytest

from rlcache.cache import generate
from rlcache.policy import load_policy
from rlcache.serve import LearnedCache
from rlcache.serve.engine import compiled_available, ghost_size
from tests.policy.helpers import TRAINED_EXTENDED

POLICY = load_policy(TRAINED_EXTENDED)
pytestmark = pytest.mark.skipif(not compiled_available(), reason="needs rlcache.engine")


def _hits(cache: LearnedCache, ids: list[int], seen: list[bool] | None = None) -> list[bool]:
    out = []
    for k in ids:
        if seen is not None:  # was k remembered (resident or with a history) before?
            seen.append(k in cache._id)
        try:
            cache[k]
            out.append(True)
        except KeyError:
            cache[k] = k
            out.append(False)
    return out


def test_ids_are_recycled_and_decisions_agree_until_a_forgotten_key_returns() -> None:
    cap = 40
    # a hot set, and a long tail of keys that mostly never return: many distinct keys
    tr = generate("zipf_scan", n_requests=20_000, n_objects=8_000, seed=5)
    ids = tr.ids.tolist()
    bound = ghost_size(POLICY.decisions, cap) + 1
    small = LearnedCache(cap, POLICY, history=0)  # the least it keeps: the ghost list
    full = LearnedCache(cap, POLICY, history=None)
    seen: list[bool] = []
    got, ref = _hits(small, ids, seen), _hits(full, ids)
    distinct = len(set(ids))
    assert distinct > 10 * (cap + bound)
    # memory: ids (and the engine's rows) for the residents and the remembered ones only
    assert len(small._keys) <= cap + bound + 1 < distinct == len(full._keys)
    assert small._engine.engine._iobj.shape[0] <= 2 * (cap + bound + 1)
    assert len(small._id) <= cap + bound + 1
    # the first request of a key the bounded cache forgot and the unbounded one remembers
    met: set[int] = set()
    first = -1
    for i, (k, s) in enumerate(zip(ids, seen, strict=True)):
        if k in met and not s:
            first = i
            break
        met.add(k)
    assert first > bound and got[:first] == ref[:first]
    # still a sound cache afterwards: every hit is a key stored and not evicted since
    assert small.stats.hits == sum(got) and small.stats.misses == len(ids) - sum(got)
    assert small.stats.evictions == small.stats.misses - cap
    # a bound above the distinct keys forgets nothing: the unbounded decisions exactly
    roomy = LearnedCache(cap, POLICY, history=distinct)
    assert _hits(roomy, ids) == ref and len(roomy._keys) == distinct


def test_deletes_and_direct_popitems_count_as_leaving() -> None:
    cache = LearnedCache(10, POLICY, history=0)
    bound = cache._bound
    rng = np.random.default_rng(3)
    for step, k in enumerate(rng.integers(0, 5000, size=8000).tolist()):
        cache[k] = step
        if step % 7 == 0:
            cache.pop(k)
        elif step % 11 == 0 and len(cache):
            cache.popitem()
    assert len(cache._keys) <= 10 + bound + 1 and len(cache._id) <= 10 + bound + 1
    assert all(cache._keys[cache._id[k]] == k for k in cache)
    assert len(cache) <= 10 and cache.stats.hits == 0


def test_bad_history() -> None:
    for bad in (-1, 2.5, True, "many"):
        with pytest.raises(ValueError, match="history"):
            LearnedCache(4, POLICY, history=bad)
    assert LearnedCache(4, POLICY, engine="reference")._bound is None  # keeps every key
