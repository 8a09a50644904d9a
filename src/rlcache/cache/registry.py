"""The one registry of cache policies: each name once, with its whole-trace replay beside it.

``POLICIES`` (what ``rlcache baselines`` runs) and ``EVAL_POLICIES`` (the baselines beside an
agent in ``rlcache evaluate``) are derived from it, as is every "unknown policy" message.
``source`` names the :class:`~rlcache.cache.state.CacheState` candidate source that makes the
same eviction choice step by step; ``state.py`` imports nothing from here, so there is no
import cycle (LRFU's replay imports ``CacheState`` when it runs, not when this loads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rlcache.cache import policies as _p
from rlcache.cache.arc import arc_hits
from rlcache.cache.policies import HALF_LIFE_CAPACITIES, SimResult, check_capacity
from rlcache.cache.trace import Trace
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


def _objects(fn: Callable[[list[int], int, int], int]) -> Replay:
    """A replay over the trace's object indices as a Python list (the pure-Python loops)."""
    def replay(trace: Trace, cap: int, seed: int) -> int:
        return fn(trace.object_index.tolist(), trace.index_size, cap)
    return replay


def _random(trace: Trace, cap: int, seed: int) -> int:
    return _p.random_hits(trace.object_index.tolist(), trace.index_size, cap, seed)


def _belady(trace: Trace, cap: int, seed: int) -> int:
    return _p.belady_hits(trace.next_access.tolist(), cap)


def _lrfu(trace: Trace, cap: int, seed: int) -> int:
    # LRFU's victim (smallest decayed count) lives in CacheState, which the env shares.
    from rlcache.cache.state import CacheState

    state = CacheState(trace, cap, half_life=HALF_LIFE_CAPACITIES * cap)
    state.play("lrfu")
    return state.hits


def _s3fifo(trace: Trace, cap: int, seed: int) -> int:
    # Imported when used: numba costs half a second that other commands need not pay.
    from rlcache.cache.s3fifo import s3fifo_hits

    return s3fifo_hits(trace.object_index, trace.index_size, cap)


def _sieve(trace: Trace, cap: int, seed: int) -> int:
    from rlcache.cache.sieve import sieve_hits

    return sieve_hits(trace.object_index, trace.index_size, cap)


REGISTRY: dict[str, Policy] = {p.name: p for p in (
    Policy("LRU", _objects(_p.lru_hits), "evict the least recently used", source="lru"),
    Policy("LFU", _objects(_p.lfu_hits), "evict the least frequently used (ties: LRU)",
           source="lfu"),
    Policy("FIFO", _objects(_p.fifo_hits), "evict the oldest insertion", source="fifo"),
    Policy("MRU", _objects(_p.mru_hits), "evict the most recently used", baseline=False,
           source="mru"),
    Policy("ARC", _objects(arc_hits), "adaptive replacement cache (Megiddo & Modha)"),
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
