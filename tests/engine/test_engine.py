"""The compiled engine against the pure-Python reference: CacheState's victims, the feature
builders' observations (bit for bit) and the torch scorer's decisions, on generated traces
and slices of the real ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlcache.agents.networks import CandidateScorer
from rlcache.cache.generators import generate
from rlcache.cache.state import SOURCES, CacheState
from rlcache.cache.trace import Trace
from rlcache.engine import Engine, Scorer
from rlcache.envs.features import make_feature_builder
from tests.shared_traces import real_or_stand_in as _real

torch.set_num_threads(1)  # one small forward per decision: threads only wait on each other
ALL = ["lru", "lfu", "fifo", "mru", "lrfu", "random", "random"]


def _reference(trace: Trace, cap: int, sources: list[str], features: str, seed: int,
               half_life: float, ghost: int, select=None):
    """evaluate_on_trace's loop, keeping every observation and victim (action 0 if no select)."""
    st = CacheState(trace, cap, seed=seed, ghost_size=ghost, half_life=half_life)
    fns = [st._source(s) for s in sources]
    fb = make_feature_builder(features, len(fns), cap, 0.99)
    fb.reset(0, len(trace))
    obs, victims, qs = [], [], []
    while st.advance():
        cands = [fn() for fn in fns]
        o = fb.observe(st, cands).copy()
        a = 0 if select is None else select(o, qs)
        obs.append(o)
        victims.append(cands[a])
        st.evict(cands[a])
    return st.hits, np.array(obs), np.array(victims), qs


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_evicts_as_cache_state(source: str) -> None:
    zipf = generate("zipf", n_requests=20_000, n_objects=2000, seed=3)
    for trace, cap, hl in ((zipf, 100, 30.0), (_real("cloudPhysicsIO", 20_000), 200, 1600.0)):
        ref = CacheState(trace, cap, seed=7, half_life=hl)
        ref.play(source)
        eng = Engine(cap, [source], seed=7, half_life=hl)
        assert eng.replay(trace.object_index) == ref.hits
        assert eng.evictions == ref.evictions
        assert sorted(eng.residents().tolist()) == sorted(ref.residents())


@pytest.mark.parametrize("features", ["basic", "extended"])
def test_observations_are_bit_identical(features: str) -> None:
    # half-life 20 requests: the decayed counts are rebased every 5120 requests
    for trace, cap in ((generate("phased", n_requests=15_000, n_objects=1500, seed=1), 80),
                       (_real("cache2k_web12", 15_000), 60)):
        hits, obs, victims, _ = _reference(trace, cap, ALL, features, 5, 20.0, 2 * cap)
        eng = Engine(cap, ALL, features=features, seed=5, half_life=20.0, ghost_size=2 * cap,
                     horizon=len(trace))
        assert eng.replay(trace.object_index, record=True, record_obs=len(obs)) == hits
        assert eng.observations.shape == obs.shape
        assert np.array_equal(eng.observations.view(np.int32), obs.view(np.int32))
        assert np.array_equal(eng.record[eng.record >= 0], victims)


def test_access_one_by_one_equals_replay_and_ids_grow() -> None:
    trace = generate("zipf_scan", n_requests=8000, n_objects=900, seed=2)
    scorer = Scorer(_layers(_torch_scorer(len(ALL), [16, 8], seed=4)))
    whole = Engine(50, ALL, scorer, seed=1)
    whole.replay(trace.object_index, record=True)
    single = Engine(50, ALL, scorer, seed=1)  # per-object arrays start at one row
    got = []
    for x in trace.object_index.tolist():
        hit = single.access(x)
        got.append(-1 if hit else (single.last_victim if single.last_victim >= 0 else -2))
    assert np.array_equal(np.array(got), whole.record)
    assert (single.hits, single.evictions) == (whole.hits, whole.evictions)
    x = int(single.residents()[0])
    assert single.remove(x) and x not in single and len(single) == 49
    assert not single.remove(x)
    with pytest.raises(ValueError, match=">= 0"):
        single.access(-1)


def _torch_scorer(k: int, hidden: list[int], seed: int, nf: int = 13) -> CandidateScorer:
    torch.manual_seed(seed)
    return CandidateScorer(k, nf, 4, hidden)


def _layers(net: CandidateScorer) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(m.weight.detach().numpy(), m.bias.detach().numpy())
            for m in net.scorer if isinstance(m, torch.nn.Linear)]


# float32 sums in another order than torch's GEMM: scores agree to a few ulps, so two
# candidates whose torch scores are this close may be ordered either way.
TIE = 1e-5


@pytest.mark.parametrize(("hidden", "real"), [([64, 64], True), ([32, 16], False),
                                              ([24], False)])
def test_decisions_equal_the_torch_scorer(hidden: list[int], real: bool) -> None:
    sources = ["lru", "lfu", "fifo", "mru", "lrfu"] + ["random"] * 11
    net = _torch_scorer(len(sources), hidden, seed=len(hidden) + hidden[0])
    x = torch.zeros(1, len(sources) * 13 + 4)

    def select(obs: np.ndarray, qs: list[np.ndarray]) -> int:
        x[0] = torch.from_numpy(obs)
        with torch.inference_mode():
            q = net(x)
        qs.append(q[0].numpy().copy())
        return int(q.argmax(dim=1).item())

    cases = [(generate("zipf", n_requests=3000, n_objects=600, seed=len(hidden)), 40)]
    if real:  # the shipped configs' [64, 64] (the engine's unrolled path) on real slices too
        cases += [(_real("cloudPhysicsIO", 5000), 60), (_real("twitter_c52", 8000), 50),
                  (_real("cache2k_web12", 5000), 40), (_real("arc_oltp", 5000), 50)]
    for trace, cap in cases:
        hits, _, victims, qs = _reference(trace, cap, sources, "extended", 0, 8.0 * cap, cap,
                                          select)
        eng = Engine(cap, sources, Scorer(_layers(net)), seed=0)
        eng.replay(trace.object_index, record=True)
        got = eng.record[eng.record >= 0]
        diff = np.flatnonzero(got != victims)
        if len(diff):  # a float-order tie: allowed only if torch's scores were this close
            d = diff[0]
            print(f"decision {d} of {len(victims)} differs (a tie within {TIE})")
            q = qs[d]
            assert np.sort(q)[-1] - np.sort(q)[-2] <= TIE * (1 + abs(q.max()))
        else:
            assert eng.hits == hits
