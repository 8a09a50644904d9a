"""The compiled scorer's paths give the same scores: the [64, 64] pair path (dense first
layer, candidates two at a time) against the one-candidate path with its zero skips, on
real observations of a trained extended policy; and what the Scorer refuses."""

from __future__ import annotations

import numpy as np
import pytest

from rlcache.engine import Engine, Scorer
from rlcache.engine._scorer import SCRATCH, _choose_with
from rlcache.policy import load_policy
from tests.policy.helpers import TRAINED_EXTENDED
from tests.shared_traces import real_or_stand_in as _real


def _scores(sc: Scorer, obs: np.ndarray, cands: np.ndarray, scratch: int) -> np.ndarray:
    """Every candidate's score and the choice, with scratch for ``scratch`` candidates
    (1: too small for the pair path, so the one-candidate path runs)."""
    w = int(sc.sizes[1])
    q = np.empty(len(cands), dtype=np.float32)
    a = _choose_with(cands, obs, 13, sc.net, sc.bias, sc.sizes, np.empty(w, np.float32),
                     np.empty(scratch * w, np.float32), np.empty(scratch * w, np.float32), q,
                     np.empty(scratch * w, np.int64))
    return np.append(q, a)


def test_pair_path_scores_equal_the_one_candidate_path() -> None:
    policy = load_policy(TRAINED_EXTENDED)
    sc = Scorer(policy.network.layers)
    assert list(sc.sizes) == [17, 64, 64, 1]
    dec = policy.decisions
    trace = _real("cloudPhysicsIO", 20_000)
    eng = Engine(200, dec["candidates"], sc, seed=0, ghost_size=800, half_life=1600.0)
    eng.replay(trace.object_index, record_obs=400)
    distinct = np.arange(16, dtype=np.int64)
    repeated = np.array([0, 1, 2, 1, 4, 0, *range(6, 16)], dtype=np.int64)
    for obs in eng.observations:
        for cands in (distinct, repeated, distinct[:7]):  # an odd count: the last alone
            kk = len(cands)
            o = np.concatenate([obs[: kk * 13], obs[-4:]])
            if cands is repeated:  # a repeated object has its first proposal's row
                o[3 * 13: 4 * 13] = o[13: 26]
            pair, one = _scores(sc, o, cands, SCRATCH), _scores(sc, o, cands, 1)
            assert np.array_equal(pair, one)


def test_scorer_refuses_non_finite_weights() -> None:
    w = [(np.ones((4, 17), np.float32), np.zeros(4, np.float32)),
         (np.ones((1, 4), np.float32), np.zeros(1, np.float32))]
    w[0][0][2, 3] = np.inf
    with pytest.raises(ValueError, match="finite"):
        Scorer(w)
