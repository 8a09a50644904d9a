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

:func:`rlcache.envs.trace_replay.evaluate_on_trace` replays a whole trace with a greedy
policy (obs -> action) and returns its hit ratio beside the classic policies' on exactly
the same requests.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlcache.cache.state import SOURCES, CacheState
from rlcache.cache.trace import NEVER, Trace
from rlcache.envs.cache_config import DEFAULT_CANDIDATES as DEFAULT_CANDIDATES
from rlcache.envs.cache_config import REWARDS as REWARDS
from rlcache.envs.cache_config import SPLITS as SPLITS
from rlcache.envs.cache_config import CacheEnvConfig as CacheEnvConfig
from rlcache.envs.features import (
    N_GLOBAL,
    belady_score,
    candidate_scores,
    make_feature_builder,
    oracle_score,
)
from rlcache.envs.trace_replay import cut_validation
from rlcache.errors import UserError

_MAX_REDRAWS = 20
#: ``CacheEnv(engine=...)``: ``auto`` (compiled where it has the features and sources)
ENGINES: tuple[str, ...] = ("auto", "compiled", "python")
STEPPER_FEATURES: tuple[str, ...] = ("basic", "extended", "history")


class CacheEnv(gym.Env):
    """Gymnasium env over a cache trace; see the module docstring."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, config: CacheEnvConfig | None = None, trace: Trace | None = None,
                 engine: str = "auto") -> None:
        # A config comes validated (CacheEnvConfig.from_kwargs, RunConfig.env_config).
        self.config = cfg = config if config is not None else CacheEnvConfig()
        if engine not in ENGINES:
            raise ValueError(f"engine: expected one of {ENGINES}, got {engine!r}")
        supported = cfg.features in STEPPER_FEATURES and set(cfg.candidates) <= set(SOURCES)
        if engine == "compiled" and not supported:
            raise ValueError(f"the compiled engine has the {STEPPER_FEATURES} features and "
                             f"the sources {SOURCES}; use engine='python'")
        #: Episodes run on the compiled engine (``engine.stepper``), the same observations,
        #: rewards and hits as the reference ``CacheState`` + feature builder (``python``).
        self.compiled = engine == "compiled" or (engine == "auto" and supported)
        self._stepper: Any = None
        # A trace file is read once per process: the train and eval envs share it.
        self.trace = cfg.load_trace(shared=True) if trace is None else trace
        self.held_out: Trace | None = None
        if cfg.validation:
            self.trace, self.held_out = cut_validation(self.trace, cfg.validation,
                                                        cfg.validation_max)
        self.capacity = cfg.capacity_for(self.trace)
        self.sources = tuple(cfg.candidates)
        n = len(self.trace)
        sizes = [self.capacity] if cfg.cache_sizes is None else \
            [cfg.capacity_for(self.trace, s) for s in cfg.cache_sizes]
        self._sizes = [(c, self._default_warmup(c, n) if cfg.warmup is None
                        else cfg.warmup) for c in sizes]
        self._cycle = False
        self._resets = 0
        self._reward_scale = 1.0
        self.warmup = self._default_warmup(self.capacity, n) if cfg.warmup is None \
            else cfg.warmup
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

    def _default_warmup(self, capacity: int, n: int) -> int:
        """4 capacities (at most what the window leaves); up to ``warmup_factor`` ones as
        long as they take at most half of that room, so that windows still start at many
        points of a short trace."""
        window = self.config.window
        room = n - 1 if window is None else max(n - window, 1)
        base = min(4 * capacity, room)
        return max(base, min(round(self.config.warmup_factor * capacity), room // 2))

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
        """The current episode's simulator (after ``reset``; the reference engine only)."""
        if self._state is None:
            raise RuntimeError("call reset() first" if not self.compiled else
                               "a compiled env has no CacheState; build it with "
                               "engine='python'")
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
            if self.compiled:
                if self._new_stepper() or fixed:
                    break
                continue
            st = self._state = self._new_state()
            self._hits0 = st.hits
            if st.advance() or fixed:
                break
        if self.compiled:
            return self._reset_compiled()
        if st.pending is None:
            raise UserError(f"env.window: no eviction happens in a window of {self.window} "
                            f"requests at cache size {self.capacity}; use a longer window "
                            "or a smaller cache_size")
        self._bind()
        self._decisions = 0
        self.features.reset(self.warmup, self.window, st.hits)
        return self._observe(), self._info()

    def _new_stepper(self) -> bool:
        """This window on the compiled engine, warmed up; True at a first decision."""
        from rlcache.engine.stepper import WindowStepper  # numba: compiled envs only

        cfg, start = self.config, self._start
        stop = start + self.warmup + self.window
        nxt = self.trace.next_access[start:stop]
        sp = self._stepper = WindowStepper(
            self.trace.object_index[start:stop], np.where(nxt == NEVER, NEVER, nxt - start),
            self.capacity, self.sources, features=cfg.features, seed=self._state_seed,
            ghost_size=cfg.ghost_size_for(self.capacity),
            half_life=cfg.dfreq_half_life * self.capacity, decay=cfg.decay, t0=self.warmup,
            horizon=self.window)
        sp.warm_up(self.warmup)
        self._hits0 = sp.hits
        return sp.start(self.warmup)

    def _reset_compiled(self) -> tuple[np.ndarray, dict[str, Any]]:
        if not self._stepper.pending:
            raise UserError(f"env.window: no eviction happens in a window of {self.window} "
                            f"requests at cache size {self.capacity}; use a longer window "
                            "or a smaller cache_size")
        self._state = None
        self._decisions = 0
        return self._stepper.obs.copy(), self._info()

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
        cfg.warmup_factor = 4.0  # the slice is replayed whole: a short warm-up
        cfg.action_rewards = False
        if cfg.cache_sizes is None:
            cfg.cache_sizes = [self.capacity]
        env = CacheEnv(cfg, trace=self.held_out,
                       engine="compiled" if self.compiled else "python")
        env._cycle = True
        env._reward_scale = 1.0 / env.window
        return env

    def _observe(self) -> np.ndarray:
        self._cands = cands = [fn() for fn in self._fns]
        return self.features.observe(self.state, cands).copy()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Evict candidate ``action``, serve requests until the next decision."""
        if self.compiled:
            return self._step_compiled(action)
        st = self.state
        if st.pending is None:
            raise RuntimeError("episode is over; call reset()")
        a = int(action)
        if not 0 <= a < len(self._cands):
            raise ValueError(f"action {action!r} outside 0..{len(self._cands) - 1}")
        victim = self._cands[a]
        mode = self.config.reward
        scores = None
        if mode == "distance" or self.config.action_rewards:
            nu = st.next_use
            scores = candidate_scores(np.array([nu[y] for y in self._cands]), st.t,
                                      self.capacity, mode)
        if mode == "belady":
            shaped = belady_score(st, self._cands, victim)
        elif mode == "distance":
            shaped = float(scores[a])
        else:
            shaped = oracle_score(st, self._cands, victim) if mode != "hits" else 0.0
        h0 = st.hits
        more = st.step(victim)
        self._decisions += 1
        hits = st.hits - h0
        if mode == "hits":
            reward = float(hits) * self._reward_scale
        elif mode in ("oracle", "belady", "distance"):
            reward = shaped
        else:
            reward = hits + self.config.oracle_weight * shaped
        obs = self._observe() if more else self.features.obs.copy()
        return obs, reward, not more, False, self._info(scores)

    def _step_compiled(self, action: Any) -> tuple[np.ndarray, float, bool, bool,
                                                    dict[str, Any]]:
        """``step`` on the compiled engine: the reference's arithmetic on its counts."""
        sp = self._stepper
        if sp is None or not sp.pending:
            raise RuntimeError("episode is over; call reset()" if sp is not None
                               else "call reset() first")
        a = int(action)
        k = len(self.sources)
        if not 0 <= a < k:
            raise ValueError(f"action {action!r} outside 0..{k - 1}")
        mode = self.config.reward
        scores = None
        if mode == "distance" or self.config.action_rewards:  # before the step moves on
            scores = candidate_scores(sp.next_uses(), sp.time, self.capacity, mode)
        h0 = sp.hits
        more = sp.step(a)
        self._decisions += 1
        hits = sp.hits - h0
        if mode == "hits":
            reward = float(hits) * self._reward_scale
        elif mode == "distance":
            reward = float(scores[a])
        else:
            later = sp.later
            if mode == "belady":
                shaped = -1.0 if later else 1.0
            else:  # oracle_score's formula, same operations
                shaped = 1.0 - 2.0 * later / (k - 1) if k > 1 else 0.0
            reward = shaped if mode in ("oracle", "belady") else \
                hits + self.config.oracle_weight * shaped
        return sp.obs.copy(), reward, not more, False, self._info(scores)

    def greedy_episode(self, scorer: Any, seed: int | None,
                       max_steps: int) -> dict[str, Any] | None:
        """``evaluation.run_episode`` with an engine ``Scorer`` choosing every victim in
        compiled code (no forward per decision): the same reward sum, length and last
        info as stepping with the scorer's choices. None on the Python engine, for the
        distance reward and with ``env.action_rewards`` (step them)."""
        if not self.compiled:
            return None
        from rlcache.engine.stepper import REWARD_MODES

        if self.config.reward not in REWARD_MODES or self.config.action_rewards:
            return None
        self.reset(seed=seed)
        cfg = self.config
        total, steps = self._stepper.play_greedy(scorer, max_steps, cfg.reward,
                                                 self._reward_scale, cfg.oracle_weight)
        self._decisions += steps
        return {"reward": total, "length": steps, "info": self._info()}

    def _info(self, scores: np.ndarray | None = None) -> dict[str, Any]:
        """The step's counts; with ``env.action_rewards`` every candidate's reward too."""
        st = self._stepper if self.compiled else self.state
        hits = st.hits - self._hits0
        requests = (st.time if self.compiled else st.t) - self.warmup
        info = {"hits": hits, "requests": requests,
                "hit_ratio": hits / requests if requests else 0.0,
                "evictions": self._decisions, "window_start": self._start}
        if scores is not None and self.config.action_rewards:
            info["action_rewards"] = scores
        return info

    def baseline_hits(self, policy: str) -> int:
        """Hits of source ``policy`` (lru, lfu, ..., ``SOURCES``) on this episode's agent requests.

        Same window, same LRU warm-up, same random seed: always-action-i equals it.
        """
        name = policy.lower()
        if name not in SOURCES:
            raise ValueError(f"unknown policy {policy!r}; expected one of {SOURCES}")
        if self._state is None and self._stepper is None:
            raise RuntimeError("call reset() first")
        st = self._new_state()
        h0 = st.hits
        st.play(name)
        return st.hits - h0
