"""Compiled cache engine: the learned eviction policy at simulator speed (numba, no torch).

API (stable; ``rlcache.serve`` and the whole-trace evaluation build on it)::

    from rlcache.engine import Engine, Scorer

    scorer = Scorer([(W1, b1), (W2, b2), (W3, b3)])   # numpy, W as nn.Linear: (out, in)
    eng = Engine(capacity=1000, sources=["lru", "lfu", "fifo", "mru", "random", ...],
                 scorer=scorer, features="extended", seed=0)
    hit = eng.access(17)          # one request for object 17 (dense int >= 0) -> bool
    eng.last_victim               # the object that request evicted, -1 if none
    hits = eng.replay(objs)       # a whole int array of requests in one compiled call
    eng.hits, eng.requests, eng.evictions, len(eng), 17 in eng, eng.residents()

- Objects are dense non-negative ints chosen by the caller; per-object arrays grow as
  larger ids appear (``n_objects`` presizes them). The capacity is fixed.
- On a miss with a full cache the engine proposes one victim per source (``lru``,
  ``lfu``, ``fifo``, ``mru``, ``lrfu``, ``random``: exactly
  :class:`rlcache.cache.state.CacheState`'s answers, the random ones from CPython's
  ``random.Random(seed)``), builds the ``basic`` or ``extended`` observation exactly as
  :mod:`rlcache.envs.features` does (bit-identical float32), scores every candidate with
  the shared MLP (ReLU between layers, as ``agents.networks.CandidateScorer``) and evicts
  the first best one. Without a scorer it evicts ``sources[0]``'s victim (a classic
  policy: ``Engine(c, ["lru"])`` is LRU).
- ``access`` and ``replay`` run the same kernel, so any split of a request sequence
  into calls gives the same hits and victims as one ``replay``. ``serve_some(buf, n)``
  is the online path (``rlcache.serve``): the arrays packed into three buffers and the
  compiled entry bound once, so one call costs about a microsecond, not several.
- Scores are float32 sums in another order than torch's GEMM, so a decision between two
  candidates whose torch scores differ by a few float32 ulps can differ; tests/engine
  measures that the hits equal the torch path's on real and generated traces.
- ``ghost_size`` (default capacity), ``half_life`` (default 8 x capacity, requests) and
  ``decay`` (0.99) are the env's ``ghost_size_for``, ``dfreq_half_life x capacity`` and
  ``decay``; ``horizon`` is the basic set's ``progress`` denominator (the trace length).

The compiled code (``_kernel``) is cached on disk (numba ``cache=True``): the first use
in a fresh checkout compiles for several seconds, later processes load it.
"""

import rlcache.engine._fresh_kernels  # noqa: F401  (first: drops stale cached kernels)
from rlcache.engine.core import FEATURE_SETS, Engine, Scorer

__all__ = ["FEATURE_SETS", "Engine", "Scorer"]
