"""CacheEnvConfig: every argument of the cache env, typed, documented and validated once.

Also the env's vocabularies (default candidates, rewards, splits) and how a config turns
into the trace it replays (a file, a generated workload or a mix) and its capacity.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlcache.cache.generators import WORKLOADS, generate
from rlcache.cache.policies import HALF_LIFE_CAPACITIES
from rlcache.cache.readers import read_trace, read_trace_shared
from rlcache.cache.state import ALL_SOURCES
from rlcache.cache.trace import Trace
from rlcache.convert import coerce, field_types, unknown_key
from rlcache.envs.features import FEATURE_SETS, N_GLOBAL, feature_set_names
from rlcache.envs.kwargs import env_float, env_int
from rlcache.errors import UserError

DEFAULT_CANDIDATES: tuple[str, ...] = ("lru", "lfu", "fifo", "mru", "random", "random", "random")
REWARDS: tuple[str, ...] = ("hits", "oracle", "hits_oracle", "belady", "distance")
SPLITS: tuple[str, ...] = ("train", "test")
#: Keys of an ``env.mix`` part; ``EPISODE_MIX_KEYS`` only with ``mix_episodes``.
MIX_KEYS: tuple[str, ...] = ("workload", "requests", "objects", "alpha", "workload_kwargs",
                             "trace", "split", "format")
EPISODE_MIX_KEYS: tuple[str, ...] = ("weight", "cache_sizes", "validation")


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
    """Requests served by LRU before the agent acts (default ``warmup_factor`` x capacity,
    to fill it)."""
    warmup_factor: float = 4.0
    """The default warm-up in capacities: a longer one gives the first decisions the
    per-object history a whole-trace replay has (the ``history`` features reach back 64
    capacities). Beyond 4 capacities it takes at most half of what the window leaves of
    the trace, so that windows still start at many points of a short trace."""
    candidates: list[str] = field(default_factory=lambda: list(DEFAULT_CANDIDATES))
    """Sources of the K eviction candidates (lru, lfu, fifo, mru, lrfu, random); action i
    evicts candidate i. ``lrfu`` proposes the resident of least decayed access count
    (half-life ``dfreq_half_life``). The observation has 8 (basic) or 13 (extended)
    features per candidate plus 4 globals."""
    reward: str = "hits"
    """``hits``: hits served until the next decision; ``oracle``: +1..-1 for evicting the
    candidate whose next use is furthest..soonest (Belady within the candidates; uses the
    future, training only); ``hits_oracle``: hits + oracle_weight x oracle; ``belady``:
    +1 for evicting the candidate with the furthest next use (ties included), else -1;
    ``distance``: the victim's next-use distance, ``2 min(log1p(d / capacity) / log1p(64),
    1) - 1`` (LRB-style: a candidate's own score, not its rank; training only)."""
    action_rewards: bool = False
    """Training only: each step's info also holds ``action_rewards``, the reward every
    candidate would have earned as the victim (``oracle`` or ``distance``), for an agent
    with ``rl.full_information``."""
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
    :class:`rlcache.envs.features.ExtendedFeatureBuilder`), ``sourced`` (extended plus
    9 flags per candidate naming the sources that proposed it) or ``history`` (extended
    plus 6 older inter-access gaps and 5 decayed counts per candidate, 24 + 4, see
    :mod:`rlcache.envs.history`)."""
    mix: list[dict[str, Any]] | None = None
    """A trace made of several parts played one after another, ids disjoint: a list of
    ``{workload, requests, objects, alpha, workload_kwargs}`` (missing keys from this
    config; each part seeded ``seed + 1000 i``) or ``{trace, split, format}`` (a trace
    file or its half). Overrides ``workload``. See ``mix_episodes``."""
    mix_episodes: bool = False
    """Training: instead of one concatenated trace, each episode draws one ``mix`` part
    (probability ~ its ``weight``, default 1) and runs on it alone, so fractional
    ``cache_size`` / ``cache_sizes`` and the ``validation`` slice are that part's; a
    part may also set its own ``cache_sizes`` and ``validation`` (see
    :class:`rlcache.envs.mix_env.MixEnv`). Without a ``mix``, or with ``trace`` set (as
    ``rlcache evaluate --trace`` does), the env is the plain one."""
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
    def convert(cls, key: str, value: Any, source: str | None = None) -> Any:
        """``value`` as field ``key``'s type (the one converter); unknown keys refused.

        ``source`` names the config layer in errors (a YAML file, ``--set ...``).
        """
        types_ = field_types(cls)
        if key not in types_:
            raise unknown_key(key, "env", types_, source or "cache env")
        if key == "candidates" and isinstance(value, str):  # "lru, lfu" or "lru lfu"
            value = [s for s in value.replace(",", " ").split() if s]
        return coerce(value, types_[key], f"env.{key}" + (f" ({source})" if source else ""))

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> CacheEnvConfig:
        """Build from the ``env:`` section (``name`` excluded): converted, then validated."""
        return cls(**{k: cls.convert(k, v) for k, v in kwargs.items()}).validate()

    def validate(self) -> CacheEnvConfig:
        """Check and normalise every field of a converted config; UserError naming it."""
        self._check_counts()
        self._check_numbers()
        self._check_vocabularies()
        if self.mix is not None:
            self._check_mix()
        self._check_training_only()
        self._check_candidates()
        return self

    def _check_counts(self) -> None:
        self.requests = env_int("requests", self.requests, 1)
        self.objects = env_int("objects", self.objects, 1)
        self.seed = env_int("seed", self.seed, 0)
        if self.window is not None:
            self.window = env_int("window", self.window, 1)
        if self.warmup is not None:
            self.warmup = env_int("warmup", self.warmup, 0)
        if self.ghost_size is not None:
            self.ghost_size = env_int("ghost_size", self.ghost_size, 0)
        self.cache_size = size_value("cache_size", self.cache_size)

    def _check_numbers(self) -> None:
        self.dfreq_half_life = env_float("dfreq_half_life", self.dfreq_half_life)
        if not self.dfreq_half_life > 0:
            raise UserError(f"env.dfreq_half_life: expected a number > 0, "
                            f"got {self.dfreq_half_life}")
        self.alpha = env_float("alpha", self.alpha)
        if self.alpha < 0:
            raise UserError(f"env.alpha: expected a number >= 0, got {self.alpha}")
        self.oracle_weight = env_float("oracle_weight", self.oracle_weight)
        self.ghost_factor = env_float("ghost_factor", self.ghost_factor)
        self.warmup_factor = env_float("warmup_factor", self.warmup_factor)
        if not self.warmup_factor >= 1:
            raise UserError(f"env.warmup_factor: expected a number >= 1, "
                            f"got {self.warmup_factor}")
        if self.ghost_factor < 0:
            raise UserError(f"env.ghost_factor: expected a number >= 0, got {self.ghost_factor}")
        self.decay = env_float("decay", self.decay)
        if not 0.0 <= self.decay < 1.0:
            raise UserError(f"env.decay: expected a number in [0, 1), got {self.decay}")

    def _check_vocabularies(self) -> None:
        if self.features not in FEATURE_SETS:
            raise UserError(f"env.features: expected one of {', '.join(FEATURE_SETS)}, "
                            f"got {self.features!r}")
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

    def _check_mix(self) -> None:
        if not isinstance(self.mix, list) or not self.mix or \
                not all(isinstance(p, Mapping) for p in self.mix):
            raise UserError(f"env.mix: expected a non-empty list of mappings, got "
                            f"{self.mix!r}")
        allowed = set(MIX_KEYS) | (set(EPISODE_MIX_KEYS) if self.mix_episodes else set())
        for i, part in enumerate(self.mix):
            bad_keys = sorted(set(part) - allowed)
            if bad_keys:
                raise UserError(f"env.mix[{i}]: unknown key {bad_keys[0]!r}; expected "
                                f"{', '.join(sorted(allowed))}"
                                + ("" if self.mix_episodes else
                                   f" ({', '.join(EPISODE_MIX_KEYS)}: with mix_episodes)"))
            weight = part.get("weight", 1.0)
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or \
                    not weight > 0:
                raise UserError(f"env.mix[{i}].weight: expected a number > 0, got {weight!r}")
            if "trace" in part:
                continue
            if part.get("workload", self.workload) not in WORKLOADS:
                raise UserError(f"env.mix[{i}].workload: unknown workload "
                                f"{part.get('workload')!r}")

    def _check_training_only(self) -> None:
        self.validation = env_float("validation", self.validation)
        v = self.validation
        if v < 0 or (v >= 1 and not v.is_integer()):
            raise UserError(f"env.validation: expected 0, a fraction in (0, 1) or a request "
                            f"count, got {v}")
        if self.validation_max is not None:
            self.validation_max = env_int("validation_max", self.validation_max, 1)
        if self.action_rewards and self.reward not in ("oracle", "distance"):
            raise UserError(f"env.action_rewards: needs env.reward oracle or distance (every "
                            f"candidate's own reward), got {self.reward!r}")
        if self.cache_sizes is not None:
            if isinstance(self.cache_sizes, (str, int, float)) or not self.cache_sizes:
                raise UserError(f"env.cache_sizes: expected a non-empty list of sizes, got "
                                f"{self.cache_sizes!r}")
            self.cache_sizes = [size_value("cache_sizes", s) for s in self.cache_sizes]

    def _check_candidates(self) -> None:
        self.candidates = [str(s).strip().lower() for s in self.candidates]
        bad = [s for s in self.candidates if s not in ALL_SOURCES]
        if not self.candidates or bad:
            raise UserError(f"env.candidates: expected a non-empty list of "
                            f"{', '.join(ALL_SOURCES)}"
                            f", got {bad or self.candidates!r}")

    # ------------------------------------------------------------------ what it implies

    @property
    def observation_dims(self) -> tuple[int, int]:
        """``(state_dim, action_dim)`` of the env this config builds, without a trace."""
        k = len(self.candidates)
        return len(feature_set_names(self.features, k)), k

    @property
    def candidate_features(self) -> int:
        """Features per candidate block of the observation (as ``CacheEnv``'s)."""
        dim, k = self.observation_dims
        return (dim - N_GLOBAL) // k

    @property
    def global_features(self) -> int:
        """Global features at the end of the observation."""
        return N_GLOBAL

    def load_trace(self, shared: bool = False) -> Trace:
        """The trace this config names (file or generator), cut to its ``split``.

        ``shared``: a file is read once per process and its (read-only) Trace shared,
        as the train and evaluation envs do (:func:`rlcache.cache.readers.read_trace_shared`).
        """
        split = self.split
        if self.trace is not None:
            columns = {k: v for k, v in (("id_col", self.id_col), ("size_col", self.size_col))
                       if v is not None}
            read = read_trace_shared if shared else read_trace
            trace = read(self.trace, self.format, **columns)
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

    def part_config(self, i: int) -> CacheEnvConfig:
        """``mix`` part ``i`` as a config of its own (``mix_episodes``): this config with
        the part's keys, no mix, seeded ``seed + 1000 i``; validated."""
        part = dict((self.mix or [])[i])
        part.pop("weight", None)
        base = {k: getattr(self, k) for k in field_types(type(self))}
        base.update(mix=None, mix_episodes=False, seed=self.seed + 1000 * i)
        if "trace" in part:
            base.update(split=None, format=None)
        return CacheEnvConfig.from_kwargs(**{**base, **part})

    def _mixed_trace(self) -> Trace:
        parts, offset = [], 0
        for i, part in enumerate(self.mix or []):
            if "trace" in part:
                parts.append(self.part_config(i).load_trace(shared=True)
                             .object_index.astype(np.int64) + offset)
                offset += int(parts[-1].max()) + 1
                continue
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

    def capacity_for(self, trace: Trace, size: int | float | None = None) -> int:
        """``size`` (default ``cache_size``, checked at load) as an object count for ``trace``."""
        return objects_for("cache_size" if size is None else "cache_sizes",
                           self.cache_size if size is None else size, trace.n_objects)


def size_value(name: str, size: Any) -> int | float:
    """A cache size as a number: a fraction in (0, 1) or a whole count >= 1 (at load)."""
    raw = str(size).strip()
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"env.{name}: cache size {raw!r} is not a number; expected a fraction "
                        f"in (0, 1) or an object count") from None
    if not (0.0 < value < 1.0 or (value.is_integer() and value >= 1)):
        raise UserError(f"env.{name}: cache size {raw!r} must be a fraction in (0, 1) or a "
                        f"positive whole object count")
    if isinstance(size, (int, float)) and not isinstance(size, bool):
        return size
    return value if value < 1 else int(value)


def objects_for(name: str, size: int | float, n_objects: int) -> int:
    """A checked size (see :func:`size_value`) in objects of a trace of ``n_objects``."""
    cap = max(1, int(size * n_objects)) if size < 1 else int(size)
    if cap >= n_objects:
        raise UserError(f"env.{name}: cache size {str(size)!r} ({cap} objects) must be "
                        f"smaller than the {n_objects} distinct objects of the trace")
    return cap
