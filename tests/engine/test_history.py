"""The ``history`` feature set: the compiled engine against the Python reference (bit for
bit observations, the same victims and hits under a torch scorer), on generated traces and
slices of the real ones (stand-ins where ../shared/traces is absent)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlcache.agents.networks import CandidateScorer
from rlcache.cache.generators import generate
from rlcache.engine import Scorer
from rlcache.engine.history import HistoryEngine
from rlcache.envs.cache_config import CacheEnvConfig
from rlcache.envs.features import feature_set_names, make_feature_builder
from rlcache.envs.history import HISTORY_CANDIDATE_FEATURES, AccessHistory, access_history
from rlcache.envs.trace_replay import agent_replay
from rlcache.evaluation import trace_report
from tests.engine.test_engine import TIE, _layers, _real, _reference

torch.set_num_threads(1)
SOURCES = ["lru", "lfu", "fifo", "mru", "lrfu"] + ["random"] * 7
NF = len(HISTORY_CANDIDATE_FEATURES)


def test_access_history_by_hand() -> None:
    # object 5 at 0, 2, 7: its counts decay between accesses, one more each time
    prev, dec = access_history([5, 1, 5, 1, 1, 3, 2, 5], 8, 2)
    assert prev == [-1, -1, 0, 1, 3, -1, -1, 2]
    d = np.frombuffer(dec, dtype=np.float64).reshape(8, 5)
    assert np.array_equal(d[0], np.ones(5))
    half = np.array([0.5, 2, 8, 32, 128])  # half-lives in requests at capacity 2
    np.testing.assert_allclose(d[2], 1 + 2.0 ** (-2 / half), rtol=1e-12)
    np.testing.assert_allclose(d[7], 1 + d[2] * 2.0 ** (-5 / half), rtol=1e-12)


def test_history_observations_are_bit_identical() -> None:
    assert len(feature_set_names("history", 3)) == 3 * NF + 4 and NF == 24
    for trace, cap in ((generate("phased", n_requests=12_000, n_objects=1200, seed=1), 60),
                       (_real("cache2k_web12", 12_000), 40),
                       (_real("arc_oltp", 12_000), 80)):
        hits, obs, victims, _ = _reference(trace, cap, SOURCES, "history", 5, 20.0, 2 * cap)
        eng = HistoryEngine(cap, SOURCES, seed=5, half_life=20.0, ghost_size=2 * cap)
        assert eng.replay(trace.object_index, record=True, record_obs=len(obs)) == hits
        assert eng.observations.shape == obs.shape == (len(victims), len(SOURCES) * NF + 4)
        assert np.array_equal(eng.observations.view(np.int32), obs.view(np.int32))
        assert np.array_equal(eng.record[eng.record >= 0], victims)
        # the older gaps and the counts vary (the test would pass on constant features)
        deltas = obs[:, 13:19]
        assert (deltas < 1).any() and (deltas == 1).any()
        assert len(np.unique(obs[:, 19:24])) > 100


@pytest.mark.parametrize("name", ["cloudPhysicsIO", "twitter_c52", "cache2k_web12",
                                  "arc_oltp"])
def test_history_decisions_equal_the_torch_scorer(name: str) -> None:
    torch.manual_seed(len(name))
    net = CandidateScorer(len(SOURCES), NF, 4, [64, 64])
    x = torch.zeros(1, len(SOURCES) * NF + 4)

    def select(obs: np.ndarray, qs: list[np.ndarray]) -> int:
        x[0] = torch.from_numpy(obs)
        with torch.inference_mode():
            q = net(x)
        qs.append(q[0].numpy().copy())
        return int(q.argmax(dim=1).item())

    trace, cap = _real(name, 8000), 50
    hits, _, victims, qs = _reference(trace, cap, SOURCES, "history", 0, 8.0 * cap, cap,
                                      select)
    eng = HistoryEngine(cap, SOURCES, Scorer(_layers(net)), seed=0)
    eng.replay(trace.object_index, record=True)
    got = eng.record[eng.record >= 0]
    diff = np.flatnonzero(got != victims)
    if len(diff):  # a float-order tie: allowed only if torch's scores were this close
        q = qs[diff[0]]
        assert np.sort(q)[-1] - np.sort(q)[-2] <= TIE * (1 + abs(q.max()))
    else:
        assert eng.hits == hits


def test_trace_report_runs_history_compiled() -> None:
    """``rlcache evaluate``'s path: a history scorer runs in the engine, hits as the
    reference replay (agent_replay) with the same network."""
    trace = _real("twitter_c52", 6000)
    cfg = CacheEnvConfig.from_kwargs(cache_size=40, features="history", candidates=SOURCES,
                                     ghost_factor=4)
    torch.manual_seed(3)
    net = CandidateScorer(len(SOURCES), NF, 4, [16, 8])
    x = torch.zeros(1, len(SOURCES) * NF + 4)

    def select(obs: np.ndarray) -> int:
        x[0] = torch.from_numpy(obs)
        with torch.inference_mode():
            return int(net(x).argmax(dim=1).item())

    row = trace_report(cfg, layers=_layers(net), trace=trace, policies=("LRU",))["agent"]
    assert row["hits"] == agent_replay(select, cfg, trace, 40)
    assert make_feature_builder("history", 2, 10).dim == 2 * NF + 4


def test_access_history_extends_as_the_requests_grow() -> None:
    req = generate("zipf", n_requests=3000, n_objects=400, seed=2).object_index.tolist()
    whole = AccessHistory(7)
    whole.extend(req, 400)
    grown = AccessHistory(7)
    for cut in (0, 1, 1000, 2999, 3000):
        grown.extend(req[:cut], max(req[:cut], default=-1) + 1)  # the objects grow too
    assert grown.prev == whole.prev and grown.dec == whole.dec
