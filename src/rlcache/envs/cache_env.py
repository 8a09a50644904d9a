"""CacheEnv: a trace replayed through a cache; the agent picks each eviction's victim.

An episode is a window of ``warmup + window`` consecutive requests starting at a point
drawn with ``self.np_random``. The first ``warmup`` requests are served by LRU so that
the cache is full; then the simulator serves requests itself and stops at every miss
with a full cache, where the agent evicts one of K candidates (``candidates``: the
default ``lru, lfu, fifo, mru, random, random, random`` gives 7 actions and a 60-dim
observation, see :mod:`rlcache.envs.features`). The reward is the number of hits served
between a decision and the next, so an episode's return is its hit count (optionally
shaped with the future, see ``CacheEnvConfig.reward``). Always taking action 0 gives
exactly LRU's hits on the episode's window (:meth:`CacheEnv.baseline_hits`), 1 LFU's,
2 FIFO's, 3 MRU's.

:func:`evaluate_on_trace` replays a whole trace with a greedy policy (obs -> action)
and returns its hit ratio beside the classic policies' on exactly the same requests.
"""

from __future__ import annotations

import copy
import difflib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlcache.cache.generators import WORKLOADS, generate
from rlcache.cache.policies import HALF_LIFE_CAPACITIES
from rlcache.cache.readers import read_trace
from rlcache.cache.registry import EVAL_POLICIES
from rlcache.cache.report import add_gap_shares, baseline_table, parse_capacity
from rlcache.cache.state import ALL_SOURCES, SOURCES, CacheState
from rlcache.cache.trace import Trace
from rlcache.envs.features import (
    FEATURE_SETS,
    N_GLOBAL,
    FeatureBuilder,
    belady_score,
    make_feature_builder,
    oracle_score,
)
from rlcache.envs.kwargs import env_float, env_int
from rlcache.errors import UserError

DEFAULT_CANDIDATES: tuple[str, ...] = ("lru", "lfu", "fifo", "mru", "random", "random", "random")
REWARDS: tuple[str, ...] = ("hits", "oracle", "hits_oracle", "belady")
SPLITS: tuple[str, ...] = ("train", "test")
_MAX_REDRAWS = 20


@dataclass
class CacheEnvConfig:
    """The ``env:`` section of a cache run (besides ``name: cache``)."""

    trace: str | None = None
    """Trace file to replay; when unset, ``workload`` generates one."""
    format: str | None = None
    """Trace file format: csv, txt or oracleGeneral (default: from the file extension)."""
    id_col: int | str | None = None
    """CSV traces: the id column, a 0-based index or a header name (default 0)."""
    size_col: int | str | None = None
    """CSV traces: the size column; sizes are read and checked, but the cache counts
    objects (every object counts as one)."""
    workload: str = "zipf"
    """Built-in generator used when ``trace`` is unset: zipf, zipf_scan, loop, shift, churn,
    phased."""
    requests: int = 200_000
    """Requests of the generated trace."""
    objects: int = 10_000
    """Distinct objects of the generated trace (the loop length for ``loop``)."""
    alpha: float = 0.9
    """Zipf skew, for the workloads that take one."""
    workload_kwargs: dict[str, Any] = field(default_factory=dict)
    """Further generator options, e.g. ``{scan_frac: 0.3}`` or ``{phases: [zipf, loop]}``."""
    seed: int = 0
    """Seed of the generated trace (an unseen trace is the same workload, another seed)."""
    split: str | None = None
    """``train``: the first half of the trace, ``test``: the second half, null: all of it."""
    cache_size: int | float | str = 0.1
    """Capacity: an object count, or a fraction in (0, 1) of the trace's distinct objects."""
    window: int | None = 20_000
    """Requests per episode after the warm-up; null: the whole trace (start fixed at 0)."""
    warmup: int | None = None
    """Requests served by LRU before the agent acts (default 4 x capacity, to fill it)."""
    candidates: list[str] = field(default_factory=lambda: list(DEFAULT_CANDIDATES))
    """Sources of the K eviction candidates (lru, lfu, fifo, mru, lrfu, random); action i
    evicts candidate i. ``lrfu`` proposes the resident of least decayed access count
    (half-life ``dfreq_half_life``). The observation has 8 (basic) or 13 (extended)
    features per candidate plus 4 globals."""
    reward: str = "hits"
    """``hits``: hits served until the next decision; ``oracle``: +1..-1 for evicting the
    candidate whose next use is furthest..soonest (Belady within the candidates; uses the
    future, training only); ``hits_oracle``: hits + oracle_weight x oracle; ``belady``:
    +1 for evicting the candidate with the furthest next use (ties included), else -1."""
    oracle_weight: float = 1.0
    """Weight of the oracle term in ``hits_oracle``."""
    ghost_size: int | None = None
    """Recently evicted objects remembered for the ``returns`` feature (default:
    ``ghost_factor`` x capacity)."""
    ghost_factor: float = 1.0
    """Ghost list length in capacities when ``ghost_size`` is unset (scale-free)."""
    features: str = "basic"
    """Observation features: ``basic`` (8 per candidate + 4 globals, 60 for the default
    7 candidates), ``extended`` (13 per candidate + 4 globals, see
    :class:`rlcache.envs.features.ExtendedFeatureBuilder`) or ``sourced`` (extended plus
    9 flags per candidate naming the sources that proposed it)."""
    mix: list[dict[str, Any]] | None = None
    """A trace made of several generated parts played one after another, ids disjoint:
    a list of ``{workload, requests, objects, alpha, workload_kwargs}`` (missing keys
    from this config; each part seeded ``seed + 1000 i``). Overrides ``workload``."""
    decay: float = 0.99
    """Per-decision decay of the recent hit / miss-kind ratios among the global features."""
    dfreq_half_life: float = HALF_LIFE_CAPACITIES
    """Half-life of the decayed access counts (the extended ``dfreq`` feature), in
    capacities (scale-free; see ``CacheState.dcount``)."""
    cache_sizes: list[int | float] | None = None
    """Training only: each episode draws its capacity from these (objects or fractions,
    as ``cache_size``), so one agent learns every size; ``cache_size`` stays the size
    ``rlcache evaluate`` judges by default. null: always ``cache_size``."""
    validation: float = 0.0
    """Training only: the end of the (split) trace held out for choosing the checkpoint,
    a fraction in (0, 1) or a request count; training windows come from the part before
    it and the trainer's evaluation replays it whole (see :meth:`CacheEnv.validation_env`).
    0: none."""
    validation_max: int | None = None
    """At most this many requests in the validation slice (keeps checkpoint selection
    cheap on long traces); null: no cap."""

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> CacheEnvConfig:
        """Build from the YAML ``env:`` section; an unknown key names the closest one."""
        names = [f.name for f in fields(cls)]
        for key in kwargs:
            if key not in names:
                match = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
                hint = f"; did you mean '{match[0]}'?" if match else ""
                raise UserError(f"env.{key}: unknown key for the cache env{hint}")
        return cls(**kwargs).validate()

    def validate(self) -> CacheEnvConfig:
        """Check and normalise every field; UserError naming ``env.<field>``."""
        self.requests = env_int("requests", self.requests, 1)
        self.objects = env_int("objects", self.objects, 1)
        self.seed = env_int("seed", self.seed, 0)
        if self.window is not None:
            self.window = env_int("window", self.window, 1)
        if self.warmup is not None:
            self.warmup = env_int("warmup", self.warmup, 0)
        if self.ghost_size is not None:
            self.ghost_size = env_int("ghost_size", self.ghost_size, 0)
        self.dfreq_half_life = env_float("dfreq_half_life", self.dfreq_half_life)
        if not self.dfreq_half_life > 0:
            raise UserError(f"env.dfreq_half_life: expected a number > 0, "
                            f"got {self.dfreq_half_life}")
        self.alpha = env_float("alpha", self.alpha)
        if self.alpha < 0:
            raise UserError(f"env.alpha: expected a number >= 0, got {self.alpha}")
        self.oracle_weight = env_float("oracle_weight", self.oracle_weight)
        self.ghost_factor = env_float("ghost_factor", self.ghost_factor)
        if self.ghost_factor < 0:
            raise UserError(f"env.ghost_factor: expected a number >= 0, got {self.ghost_factor}")
        if self.features not in FEATURE_SETS:
            raise UserError(f"env.features: expected one of {', '.join(FEATURE_SETS)}, "
                            f"got {self.features!r}")
        if self.mix is not None:
            if not isinstance(self.mix, list) or not self.mix or \
                    not all(isinstance(p, Mapping) for p in self.mix):
                raise UserError(f"env.mix: expected a non-empty list of mappings, got "
                                f"{self.mix!r}")
            allowed = {"workload", "requests", "objects", "alpha", "workload_kwargs"}
            for i, part in enumerate(self.mix):
                bad_keys = sorted(set(part) - allowed)
                if bad_keys:
                    raise UserError(f"env.mix[{i}]: unknown key {bad_keys[0]!r}; expected "
                                    f"{', '.join(sorted(allowed))}")
                if part.get("workload", self.workload) not in WORKLOADS:
                    raise UserError(f"env.mix[{i}].workload: unknown workload "
                                    f"{part.get('workload')!r}")
        self.decay = env_float("decay", self.decay)
        if not 0.0 <= self.decay < 1.0:
            raise UserError(f"env.decay: expected a number in [0, 1), got {self.decay}")
        if self.trace is None and self.workload not in WORKLOADS:
            raise UserError(f"env.workload: unknown workload {self.workload!r}; expected one "
                            f"of {', '.join(WORKLOADS)}")
        if not isinstance(self.workload_kwargs, Mapping):
            raise UserError(f"env.workload_kwargs: expected a mapping, got "
                            f"{self.workload_kwargs!r}")
        if self.split is not None and self.split not in SPLITS:
            raise UserError(f"env.split: expected train, test or null, got {self.split!r}")
        if self.reward not in REWARDS:
            raise UserError(f"env.reward: expected one of {', '.join(REWARDS)}, "
                            f"got {self.reward!r}")
        self._validate_training_only()
        if isinstance(self.candidates, str):
            self.candidates = [s for s in self.candidates.replace(",", " ").split() if s]
        self.candidates = [str(s).strip().lower() for s in self.candidates]
        bad = [s for s in self.candidates if s not in ALL_SOURCES]
        if not self.candidates or bad:
            raise UserError(f"env.candidates: expected a non-empty list of "
                            f"{', '.join(ALL_SOURCES)}"
                            f", got {bad or self.candidates!r}")
        return self

    def _validate_training_only(self) -> None:
        self.validation = env_float("validation", self.validation)
        v = self.validation
        if v < 0 or (v >= 1 and not v.is_integer()):
            raise UserError(f"env.validation: expected 0, a fraction in (0, 1) or a request "
                            f"count, got {v}")
        if self.validation_max is not None:
            self.validation_max = env_int("validation_max", self.validation_max, 1)
        if self.cache_sizes is not None:
            if isinstance(self.cache_sizes, (str, int, float)) or not self.cache_sizes:
                raise UserError(f"env.cache_sizes: expected a non-empty list of sizes, got "
                                f"{self.cache_sizes!r}")
            self.cache_sizes = list(self.cache_sizes)

    def load_trace(self) -> Trace:
        """The trace this config names (file or generator), cut to its ``split``."""
        split = self.split
        if self.trace is not None:
            columns = {k: v for k, v in (("id_col", self.id_col), ("size_col", self.size_col))
                       if v is not None}
            trace = read_trace(self.trace, self.format, **columns)
        elif self.mix:
            trace = self._mixed_trace()
        else:
            trace = self._generate(self.workload, self.requests, self.objects, self.alpha,
                                   self.workload_kwargs, self.seed)
        if len(trace) == 0:
            raise UserError(f"{self.trace or self.workload}: the trace has no requests")
        if split is not None:
            if len(trace) < 2:
                raise UserError(f"env.split: a trace of {len(trace)} request cannot be split")
            first, second = trace.split(0.5)
            trace = first if split == "train" else second
        return trace

    @staticmethod
    def _generate(workload: str, requests: int, objects: int, alpha: float,
                  workload_kwargs: Mapping[str, Any], seed: int) -> Trace:
        params = inspect.signature(WORKLOADS[workload]).parameters
        kw = dict(workload_kwargs)
        if "alpha" in params:
            kw.setdefault("alpha", alpha)
        return generate(workload, requests, objects, seed, **kw)

    def _mixed_trace(self) -> Trace:
        parts, offset = [], 0
        for i, part in enumerate(self.mix or []):
            requests = env_int(f"mix[{i}].requests", part.get("requests", self.requests), 1)
            objects = env_int(f"mix[{i}].objects", part.get("objects", self.objects), 1)
            tr = self._generate(part.get("workload", self.workload), requests, objects,
                                env_float(f"mix[{i}].alpha", part.get("alpha", self.alpha)),
                                part.get("workload_kwargs", {}), self.seed + 1000 * i)
            ids = tr.object_index.astype(np.int64)
            parts.append(ids + offset)
            offset += int(ids.max()) + 1
        return Trace(np.concatenate(parts), name="mix")

    def ghost_size_for(self, capacity: int) -> int:
        """Ghost list length: ``ghost_size``, else ``ghost_factor`` x ``capacity``."""
        if self.ghost_size is not None:
            return self.ghost_size
        return max(0, round(self.ghost_factor * capacity))

    def capacity_for(self, trace: Trace) -> int:
        """``cache_size`` as an object count for ``trace``."""
        try:
            return parse_capacity(self.cache_size, trace.n_objects)
        except UserError as exc:
            raise UserError(f"env.cache_size: {exc}") from None


class CacheEnv(gym.Env):
    """Gymnasium env over a cache trace; see the module docstring."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, config: CacheEnvConfig | None = None, trace: Trace | None = None) -> None:
        self.config = cfg = (config or CacheEnvConfig()).validate()
        self.trace = cfg.load_trace() if trace is None else trace
        self.held_out: Trace | None = None
        if cfg.validation:
            self.trace, self.held_out = _cut_validation(self.trace, cfg.validation,
                                                        cfg.validation_max)
        self.capacity = cfg.capacity_for(self.trace)
        self.sources = tuple(cfg.candidates)
        n = len(self.trace)
        sizes = [self.capacity] if cfg.cache_sizes is None else \
            [_capacity(s, self.trace) for s in cfg.cache_sizes]
        self._sizes = [(c, min(4 * c, n - 1) if cfg.warmup is None else cfg.warmup)
                       for c in sizes]
        self._cycle = False
        self._resets = 0
        self._reward_scale = 1.0
        self.warmup = min(4 * self.capacity, n - 1) if cfg.warmup is None else cfg.warmup
        self.window = n - max(w for _, w in self._sizes) if cfg.window is None else cfg.window
        if max(w for _, w in self._sizes) + self.window > n:
            raise UserError(f"env.window: warmup {self.warmup} + window {self.window} requests "
                            f"exceed the trace's {n}; use a smaller window or a longer trace")
        if self.window < 1:
            raise UserError(f"env.warmup: {self.warmup} leaves no request of the "
                            f"{n}-request trace for the agent")
        k = len(self.sources)
        self.features = make_feature_builder(cfg.features, k, self.capacity, cfg.decay,
                                             self.sources)
        self._builders = {self.capacity: self.features}
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.features.dim,),
                                            dtype=np.float32)
        self.action_space = spaces.Discrete(k)
        self._fns: list[Callable[[], int]] = []
        self._state: CacheState | None = None
        self._cands: list[int] = []
        self._start = 0
        self._state_seed = 0
        self._hits0 = 0
        self._decisions = 0

    @property
    def candidate_features(self) -> int:
        """Features per candidate block of the observation (8, 13 or 22)."""
        return (self.features.dim - N_GLOBAL) // self.action_space.n

    @property
    def global_features(self) -> int:
        """Global features at the end of the observation."""
        return N_GLOBAL

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> CacheEnv:
        """Build from the ``env:`` section's keyword arguments (``name`` excluded)."""
        kwargs.pop("name", None)
        return cls(CacheEnvConfig.from_kwargs(**kwargs))

    def __deepcopy__(self, memo: dict[int, Any]) -> CacheEnv:
        """A copy that shares the (read-only) trace."""
        memo[id(self.trace)] = self.trace
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if key != "_fns":
                new.__dict__[key] = copy.deepcopy(value, memo)
        new._bind()
        return new

    # ---- episodes ----------------------------------------------------------------------
    @property
    def state(self) -> CacheState:
        """The current episode's simulator (after ``reset``)."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state

    @property
    def window_start(self) -> int:
        """Trace index of the current episode's first (warm-up) request."""
        return self._start

    def _new_state(self) -> CacheState:
        stop = self._start + self.warmup + self.window
        st = CacheState(self.trace, self.capacity, seed=self._state_seed, start=self._start,
                        stop=stop,
                        ghost_size=self.config.ghost_size_for(self.capacity),
                        half_life=self.config.dfreq_half_life * self.capacity)
        st.play("lru", until=self.warmup)
        return st

    def _bind(self) -> None:
        st = self._state
        self._fns = [] if st is None else [st._source(s) for s in self.sources]

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw a window, warm the cache up with LRU, advance to the first decision."""
        super().reset(seed=seed)
        if self.config.cache_sizes is not None:
            self._pick_size()
        n, span = len(self.trace), self.warmup + self.window
        for _ in range(_MAX_REDRAWS):
            fixed = self.config.window is None
            self._start = 0 if fixed else int(self.np_random.integers(0, n - span + 1))
            self._state_seed = int(self.np_random.integers(2**31))
            st = self._state = self._new_state()
            self._hits0 = st.hits
            if st.advance() or fixed:
                break
        if st.pending is None:
            raise UserError(f"env.window: no eviction happens in a window of {self.window} "
                            f"requests at cache size {self.capacity}; use a longer window "
                            "or a smaller cache_size")
        self._bind()
        self._decisions = 0
        self.features.reset(self.warmup, self.window, st.hits)
        return self._observe(), self._info()

    def _pick_size(self) -> None:
        """This episode's capacity: drawn (training) or the next in turn (validation)."""
        i = self._resets % len(self._sizes) if self._cycle else \
            int(self.np_random.integers(len(self._sizes)))
        self._resets += 1
        self.capacity, self.warmup = self._sizes[i]
        if self.capacity not in self._builders:
            cfg = self.config
            self._builders[self.capacity] = make_feature_builder(
                cfg.features, len(self.sources), self.capacity, cfg.decay, self.sources)
        self.features = self._builders[self.capacity]

    def validation_env(self) -> CacheEnv | None:
        """The held-out end of the trace (``env.validation``) as an evaluation env, or None.

        Each episode replays the whole slice after an LRU warm-up of 4 x capacity, at the
        next of ``cache_sizes`` in turn, rewarding hits / requests, so an evaluation of
        ``len(cache_sizes)`` episodes scores the agent by its mean validation hit ratio.
        """
        if self.held_out is None:
            return None
        cfg = copy.copy(self.config)
        cfg.validation, cfg.window, cfg.warmup, cfg.reward = 0.0, None, None, "hits"
        if cfg.cache_sizes is None:
            cfg.cache_sizes = [self.capacity]
        env = CacheEnv(cfg, trace=self.held_out)
        env._cycle = True
        env._reward_scale = 1.0 / env.window
        return env

    def _observe(self) -> np.ndarray:
        self._cands = cands = [fn() for fn in self._fns]
        return self.features.observe(self.state, cands).copy()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Evict candidate ``action``, serve requests until the next decision."""
        st = self.state
        if st.pending is None:
            raise RuntimeError("episode is over; call reset()")
        a = int(action)
        if not 0 <= a < len(self._cands):
            raise ValueError(f"action {action!r} outside 0..{len(self._cands) - 1}")
        victim = self._cands[a]
        mode = self.config.reward
        if mode == "belady":
            shaped = belady_score(st, self._cands, victim)
        else:
            shaped = oracle_score(st, self._cands, victim) if mode != "hits" else 0.0
        h0 = st.hits
        more = st.step(victim)
        self._decisions += 1
        hits = st.hits - h0
        if mode == "hits":
            reward = float(hits) * self._reward_scale
        elif mode in ("oracle", "belady"):
            reward = shaped
        else:
            reward = hits + self.config.oracle_weight * shaped
        obs = self._observe() if more else self.features.obs.copy()
        return obs, reward, not more, False, self._info()

    def _info(self) -> dict[str, Any]:
        st = self.state
        hits = st.hits - self._hits0
        requests = st.t - self.warmup
        return {"hits": hits, "requests": requests,
                "hit_ratio": hits / requests if requests else 0.0,
                "evictions": self._decisions, "window_start": self._start}

    def baseline_hits(self, policy: str) -> int:
        """Hits of source ``policy`` (lru, lfu, ..., ``SOURCES``) on this episode's agent requests.

        Same window, same LRU warm-up, same random seed: always-action-i equals it.
        """
        name = policy.lower()
        if name not in SOURCES:
            raise ValueError(f"unknown policy {policy!r}; expected one of {SOURCES}")
        if self._state is None:
            raise RuntimeError("call reset() first")
        st = self._new_state()
        h0 = st.hits
        st.play(name)
        return st.hits - h0


def _capacity(size: int | float | str, trace: Trace) -> int:
    try:
        return parse_capacity(size, trace.n_objects)
    except UserError as exc:
        raise UserError(f"env.cache_sizes: {exc}") from None


def _cut_validation(trace: Trace, validation: float,
                    at_most: int | None = None) -> tuple[Trace, Trace]:
    """The trace before its held-out end and that end (``validation`` share or requests,
    at most ``at_most``)."""
    n = len(trace)
    held = round(validation * n) if validation < 1 else int(validation)
    held = held if at_most is None else min(held, at_most)
    if not 0 < held < n:
        raise UserError(f"env.validation: {validation} leaves no request for training or "
                        f"for validation in a trace of {n}")
    return trace.slice(0, n - held), trace.slice(n - held, None)


def evaluate_on_trace(
    select: Callable[[np.ndarray], int],
    config: CacheEnvConfig | Mapping[str, Any],
    trace: Trace | None = None,
    policies: Iterable[str] = EVAL_POLICIES,
) -> dict[str, dict[str, Any]]:
    """Replay a whole trace (cache empty at start) with ``select(obs) -> action`` greedy.

    Returns ``{"agent": row, POLICY: row, ...}``, rows ``{hits, requests, hit_ratio,
    miss_ratio, gap_share}``, the baselines on exactly the same requests. ``trace``
    defaults to the config's (its ``split`` applied). This is the pure-Python reference;
    :func:`rlcache.evaluation.trace_report` runs a candidate scorer compiled.
    """
    if isinstance(config, Mapping):
        config = CacheEnvConfig.from_kwargs(**{k: v for k, v in config.items() if k != "name"})
    else:
        config = copy.copy(config).validate()
    trace = config.load_trace() if trace is None else trace
    capacity = config.capacity_for(trace)
    hits = agent_replay(select, config, trace, capacity)
    n = len(trace)
    agent = {"hits": hits, "requests": n, "hit_ratio": hits / n if n else 0.0,
             "miss_ratio": 1.0 - hits / n if n else 0.0}
    return baseline_rows(agent, trace, capacity, policies, config.seed)


def agent_replay(select: Callable[[np.ndarray], int], config: CacheEnvConfig, trace: Trace,
                 capacity: int) -> int:
    """Hits of ``select`` replaying all of ``trace`` from an empty cache (the reference)."""
    st = CacheState(trace, capacity, seed=config.seed,
                    ghost_size=config.ghost_size_for(capacity),
                    half_life=config.dfreq_half_life * capacity)
    fns = [st._source(s) for s in config.candidates]
    feats: FeatureBuilder = make_feature_builder(config.features, len(fns), capacity,
                                                 config.decay, config.candidates)
    feats.reset(0, len(trace))
    while st.advance():
        cands = [fn() for fn in fns]
        st.evict(cands[int(select(feats.observe(st, cands).copy()))])
    return st.hits


def baseline_rows(agent: dict[str, Any], trace: Trace, capacity: int, policies: Iterable[str],
                  seed: int) -> dict[str, dict[str, Any]]:
    """``{"agent": agent, POLICY: row, ...}`` with every row's share of the LRU->MIN gap."""
    table = baseline_table(trace, capacity, policies, seed=seed)
    lru = table["LRU"]["hit_ratio"] if "LRU" in table else None
    bel = table["BELADY"]["hit_ratio"] if "BELADY" in table else None
    out: dict[str, dict[str, Any]] = {"agent": agent, **table}
    if lru is None or bel is None:
        ref = baseline_table(trace, capacity, ("LRU", "BELADY"), seed=seed)
        lru, bel = ref["LRU"]["hit_ratio"], ref["BELADY"]["hit_ratio"]
    add_gap_shares(out, lru, bel)
    return out
