"""Suite-wide set-up: compile the numba kernels once, before any test starts a process.

The kernels are cached on disk (numba ``cache=True``), so in a fresh checkout the first
process to call one compiles it. Done here, in the pytest process, the CLI subprocesses
of every later test load the cache instead of each compiling under its own timeout.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

#: Test folders whose tests start Ray (a loopback cluster or local Ray in a subprocess):
#: under pytest-xdist they share one worker, so two Ray heads never race for Ray's fixed
#: ports (client server 10001, dashboard 8265) or for both cores at once.
RAY_FOLDERS = ("sweep", "benchmark")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the Ray tests in one xdist group (``--dist loadgroup``)."""
    root = Path(__file__).parent
    for item in items:
        parts = Path(item.path).relative_to(root).parts
        if parts and parts[0] in RAY_FOLDERS:
            item.add_marker(pytest.mark.xdist_group("ray"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Append each phase's duration to ``$RLCACHE_DURATIONS`` (tuning the default run)."""
    path = os.environ.get("RLCACHE_DURATIONS")
    if path and getattr(report, "node", None) is None:  # xdist's controller copy has .node
        with open(path, "a") as fh:
            fh.write(f"{report.duration:.2f} {report.when} {report.outcome} {report.nodeid}\n")


@pytest.fixture(scope="session", autouse=True)
def _compiled_kernels() -> None:
    """Compile (or load) every kernel once; xdist workers take turns, so one compiles."""
    import fcntl
    import hashlib
    import tempfile

    import rlcache

    tag = hashlib.sha256(str(Path(rlcache.__file__).resolve()).encode()).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"rlcache-kernels-{tag}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the second worker then loads the disk cache
        _warm_kernels()


def _warm_kernels() -> None:
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
    from rlcache.engine.history import HistoryEngine  # the cache_trace recipe's features

    width = HistoryEngine(8, sources[:1]).obs_dim
    layers = [(rng.standard_normal((16, width)).astype(np.float32), np.zeros(16, np.float32)),
              (rng.standard_normal((1, 16)).astype(np.float32), np.zeros(1, np.float32))]
    HistoryEngine(8, sources, Scorer(layers), seed=0).replay(objs)
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
