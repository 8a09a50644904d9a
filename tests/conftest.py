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
    """Compile (or load) every kernel once, group by group under a lock per group.

    xdist workers start at different groups (rotated by worker number), so two workers
    compile two groups at once and then load each other's from numba's disk cache.
    """
    import fcntl
    import hashlib
    import tempfile

    import rlcache

    tag = hashlib.sha256(str(Path(rlcache.__file__).resolve()).encode()).hexdigest()[:12]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    start = int(worker[2:]) if worker[2:].isdigit() else 0
    n = len(_WARM_GROUPS)
    for i in range(n):
        group = _WARM_GROUPS[(start * (n // 2 or 1) + i) % n]
        with open(Path(tempfile.gettempdir()) / f"rlcache-kernels-{tag}-{group.__name__}.lock",
                  "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker then loads the disk cache
            group()


def _trace():  # type: ignore[no-untyped-def]
    from rlcache.cache import generate

    return generate("zipf", n_requests=400, n_objects=60, seed=0)


SOURCES = ["lru", "lfu", "fifo", "mru", "lrfu", "random"]


def _layers(width: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((16, width)).astype(np.float32), np.zeros(16, np.float32)),
            (rng.standard_normal((1, 16)).astype(np.float32), np.zeros(1, np.float32))]


def _warm_policies() -> None:
    from rlcache.cache import POLICIES, simulate

    trace = _trace()
    for policy in POLICIES:
        simulate(trace, policy, 8)


def _warm_replay() -> None:
    from rlcache.engine import FEATURE_SETS, Engine, Scorer

    objs = _trace().object_index
    for features in FEATURE_SETS:
        width = Engine(8, SOURCES[:1], features=features).obs_dim  # one candidate + globals
        for scorer in (None, Scorer(_layers(width))):
            engine = Engine(8, SOURCES, scorer, features=features, seed=0)
            engine.replay(objs)
            engine.access(int(objs[0]))


def _warm_history() -> None:
    from rlcache.engine import Scorer
    from rlcache.engine.history import HistoryEngine  # the cache_trace recipe's features

    width = HistoryEngine(8, SOURCES[:1]).obs_dim
    HistoryEngine(8, SOURCES, Scorer(_layers(width)), seed=0).replay(_trace().object_index)


def _warm_stepper() -> None:
    from rlcache.engine.stepper import WindowStepper  # the cache env's compiled step

    trace = _trace()
    stepper = WindowStepper(trace.object_index, trace.next_access, 8, SOURCES,
                            features="extended", seed=0, ghost_size=8, half_life=64.0,
                            decay=0.99, t0=0, horizon=len(trace))
    stepper.warm_up(40)
    if stepper.start(40):
        stepper.step(0)
    if stepper.pending:  # the Trainer's evaluation episodes (CacheEnv.greedy_episode)
        from rlcache.engine import Scorer

        stepper.play_greedy(Scorer(_layers(13 + 4)), 3, "hits")


def _warm_serve() -> None:
    from rlcache.serve import LearnedCache

    # the trained extended policy the serve tests run compiled under a budget
    # (tests/policy/helpers.TRAINED_EXTENDED; named here to keep torch out of conftest)
    cache = LearnedCache(8, Path(__file__).parent / "policy" / "trained_extended.npz")
    for key in _trace().object_index.tolist():
        if cache.get(key) is None:
            cache[key] = key


_WARM_GROUPS = (_warm_policies, _warm_replay, _warm_history, _warm_stepper, _warm_serve)
