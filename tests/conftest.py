"""Suite-wide set-up: compile the numba kernels once, before any test starts a process.

The kernels are cached on disk (numba ``cache=True``), so in a fresh checkout the first
process to call one compiles it. Done here, in the pytest process, the CLI subprocesses
of every later test load the cache instead of each compiling under its own timeout.
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def _compiled_kernels() -> None:
    from rlcache.cache import POLICIES, generate, simulate
    from rlcache.engine import FEATURE_SETS, Engine, Scorer
    from rlcache.serve import LearnedCache

    trace = generate("zipf", n_requests=400, n_objects=60, seed=0)
    for policy in POLICIES:
        simulate(trace, policy, 8)
    rng = np.random.default_rng(0)
    sources = ["lru", "lfu", "fifo", "mru", "lrfu", "random"]
    objs = trace.object_index
    for features in FEATURE_SETS:
        width = Engine(8, sources[:1], features=features).obs_dim  # one candidate + globals
        layers = [(rng.standard_normal((16, width)).astype(np.float32),
                   np.zeros(16, np.float32)),
                  (rng.standard_normal((1, 16)).astype(np.float32), np.zeros(1, np.float32))]
        for scorer in (None, Scorer(layers)):
            engine = Engine(8, sources, scorer, features=features, seed=0)
            engine.replay(objs)
            engine.access(int(objs[0]))
    from rlcache.engine.stepper import WindowStepper  # the cache env's compiled step

    stepper = WindowStepper(objs, trace.next_access, 8, sources, features="extended", seed=0,
                            ghost_size=8, half_life=64.0, decay=0.99, t0=0, horizon=len(objs))
    stepper.warm_up(40)
    if stepper.start(40):
        stepper.step(0)
    cache = LearnedCache(8, "pretrained")
    for key in objs.tolist():
        if cache.get(key) is None:
            cache[key] = key
