"""The one registry of cache policies: each name once, with its whole-trace replay beside it.

``POLICIES`` (what ``rlcache baselines`` runs) and ``EVAL_POLICIES`` (the baselines beside an
agent in ``rlcache evaluate``) are derived from it, as is every "unknown policy" message.
``source`` names the :class:`~rlcache.cache.state.CacheState` candidate source that makes the
same eviction choice step by step; ``state.py`` imports nothing from here and nothing
here imports ``state.py``: no cycle. The replays are compiled (``compiled.py``, numba, loaded
on first use); ``policies.py`` and ``arc.py`` keep the readable pure-Python twins, the
reference the tests hold the compiled ones to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from rlcache.cache import policies as _p
from rlcache.cache.policies import HALF_LIFE_CAPACITIES, SimResult, check_capacity
from rlcache.cache.trace import NEVER, Trace
from rlcache.errors import UserError

#: ``replay(trace, capacity, seed) -> hits`` over the whole trace, unit-size objects.
Replay = Callable[[Trace, int, int], int]


@dataclass(frozen=True)
class Policy:
    """A registered policy: its name, whole-trace replay and where else it is used."""

    name: str
    replay: Replay
    summary: str
    baseline: bool = True
    source: str | None = None
    aliases: tuple[str, ...] = ()


def _compiled(name: str) -> Replay:
    """The numba replay ``compiled.<name>(object_index, index_size, cap)``."""
    def replay(trace: Trace, cap: int, seed: int) -> int:
        # Imported when used: numba costs half a second that other commands need not pay.
        from rlcache.cache import compiled

        return getattr(compiled, name)(trace.object_index, trace.index_size, cap)
    replay.__name__ = name
    return replay


def _random(trace: Trace, cap: int, seed: int) -> int:
    return _p.random_hits(trace.object_index.tolist(), trace.index_size, cap, seed)


def _belady(trace: Trace, cap: int, seed: int) -> int:
    from rlcache.cache import compiled

    return compiled.belady_hits(trace.next_access, cap, NEVER)


#: CacheState rebases its decayed counts every 256 half-lives; LRFU's replay must too
#: (tests/cache/test_compiled.py checks the hits against CacheState.play("lrfu")).
LRFU_EPOCH = 256


def _lrfu(trace: Trace, cap: int, seed: int) -> int:
    from rlcache.cache.lrfu import lrfu_hits

    half_life = HALF_LIFE_CAPACITIES * cap
    period = max(1, int(LRFU_EPOCH * half_life))
    weights = np.exp2((np.arange(len(trace), dtype=np.float64) % period) / half_life)
    factor = 2.0 ** (-period / half_life)
    return lrfu_hits(trace.object_index, trace.index_size, cap, weights, period, factor)


def _s3fifo(trace: Trace, cap: int, seed: int) -> int:
    from rlcache.cache.s3fifo import s3fifo_hits

    return s3fifo_hits(trace.object_index, trace.index_size, cap)


def _sieve(trace: Trace, cap: int, seed: int) -> int:
    from rlcache.cache.sieve import sieve_hits

    return sieve_hits(trace.object_index, trace.index_size, cap)


REGISTRY: dict[str, Policy] = {p.name: p for p in (
    Policy("LRU", _compiled("lru_hits"), "evict the least recently used", source="lru"),
    Policy("LFU", _compiled("lfu_hits"), "evict the least frequently used (ties: LRU)",
           source="lfu"),
    Policy("FIFO", _compiled("fifo_hits"), "evict the oldest insertion", source="fifo"),
    Policy("MRU", _compiled("mru_hits"), "evict the most recently used", baseline=False,
           source="mru"),
    Policy("ARC", _compiled("arc_hits"), "adaptive replacement cache (Megiddo & Modha)"),
    Policy("LRFU", _lrfu, "evict the smallest decayed access count", source="lrfu"),
    Policy("S3FIFO", _s3fifo, "small + main FIFO with a ghost (Yang et al., SOSP'23)",
           aliases=("S3-FIFO",)),
    Policy("SIEVE", _sieve, "FIFO with a visited bit and a moving hand (NSDI'24)"),
    Policy("RANDOM", _random, "evict a uniformly random resident", baseline=False,
           source="random"),
    Policy("BELADY", _belady, "Belady's MIN, the offline optimum", aliases=("MIN", "OPT")),
)}

POLICIES: tuple[str, ...] = tuple(REGISTRY)
#: The classic policies printed beside an agent (deterministic, without MRU's pathology).
EVAL_POLICIES: tuple[str, ...] = tuple(n for n, p in REGISTRY.items() if p.baseline)
_BY_NAME = {alias: p.name for p in REGISTRY.values() for alias in (p.name, *p.aliases)}


def normalize_policy(policy: str) -> str:
    """The registered name of ``policy`` (case and aliases such as MIN accepted)."""
    name = _BY_NAME.get(str(policy).strip().upper())
    if name is None:
        raise UserError(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")
    return name


def simulate(trace: Trace, policy: str, capacity: int, seed: int = 0) -> SimResult:
    """Replay ``trace`` through ``policy`` with room for ``capacity`` unit-size objects."""
    spec = REGISTRY[normalize_policy(policy)]
    cap = check_capacity(capacity)
    hits = spec.replay(trace, cap, seed) if len(trace) else 0
    return SimResult(spec.name, cap, int(hits), len(trace))


def simulate_many(
    trace: Trace, policies: Iterable[str], capacity: int, seed: int = 0
) -> dict[str, SimResult]:
    """``simulate`` for each policy, keyed by registered policy name."""
    return {normalize_policy(p): simulate(trace, p, capacity, seed) for p in policies}
