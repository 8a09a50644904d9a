"""Greedy evaluation without a Trainer: whole-trace cache replay and greedy episodes.

``rlcache evaluate`` and the Trainer both evaluate through here; nothing here builds an
optimizer, a replay buffer or a training env.

- :func:`trace_report`: a cache policy replayed over a whole trace beside the baselines.
  A candidate scorer over the basic, extended or history features and the six classic
  sources runs in the compiled engine (:mod:`rlcache.engine`, the same decisions as the torch
  path, tests/engine); any other network, feature set or source through
  ``select(obs) -> action`` and the pure-Python reference. The agent's row adds
  ``replay_seconds`` (its replay alone) and ``requests_per_second``.
- :func:`scorer_layers`: a checkpoint's candidate-scorer weights as numpy ``(W, b)``.
- :func:`greedy_agent`: the Q-network of a checkpoint, greedy (torch, nothing else).
- :func:`run_episodes` / :func:`episode_stats`: greedy episodes on an env;
  :func:`greedy_episodes`: the same for a live agent, a candidate scorer's episodes on a
  compiled cache env in one engine call each (the Trainer's evaluations).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

Layers = list[tuple[np.ndarray, np.ndarray]]
TIMING_KEYS = ("replay_seconds", "requests_per_second")
"""Keys :func:`add_timing` puts in an agent's row (wall time of its replay alone)."""
_SCORER_KEY = re.compile(r"^scorer\.(\d+)\.(weight|bias)$")


def scorer_layers(agent_state: Mapping[str, Any]) -> Layers | None:
    """``[(W, b), ...]`` of a checkpointed candidate scorer (``agent`` payload), else None."""
    config = agent_state.get("config") or {}
    if config.get("network") != "candidate":
        return None
    found: dict[int, dict[str, np.ndarray]] = {}
    for key, value in agent_state["q_net"].items():
        match = _SCORER_KEY.match(key)
        if match is None:
            return None
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        found.setdefault(int(match.group(1)), {})[match.group(2)] = arr.astype(np.float32)
    return [(found[i]["weight"], found[i]["bias"]) for i in sorted(found)]


def engine_scorer(layers: Layers | None, n_inputs: int) -> Any:
    """An engine ``Scorer`` for ``layers``, or None when the engine cannot run them."""
    if not layers or len(layers) < 2 or layers[0][0].shape[1] != n_inputs:
        return None
    from rlcache.engine import Scorer

    return Scorer(layers)


def _engine_hits(config: Any, trace: Any, capacity: int, scorer: Any) -> int:
    from rlcache.engine import Engine
    from rlcache.engine.history import HistoryEngine

    kwargs = dict(seed=config.seed, ghost_size=config.ghost_size_for(capacity),
                  half_life=config.dfreq_half_life * capacity, decay=config.decay,
                  n_objects=trace.index_size, horizon=len(trace))
    eng = (HistoryEngine(capacity, config.candidates, scorer, **kwargs)
           if config.features == "history" else
           Engine(capacity, config.candidates, scorer, features=config.features, **kwargs))
    return eng.replay(trace.object_index)


def trace_report(config: Any, *, layers: Layers | None = None,
                 select: Callable[[np.ndarray], int] | None = None, trace: Any = None,
                 policies: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The policy's whole-trace row beside the baselines (``evaluate_on_trace``'s table).

    ``config``: a ``CacheEnvConfig`` or the ``env:`` mapping. ``layers`` (a candidate
    scorer's weights) run compiled; otherwise ``select`` runs in the reference replay.
    """
    from rlcache.cache.registry import EVAL_POLICIES
    from rlcache.cache.state import SOURCES
    from rlcache.envs.cache_env import CacheEnvConfig
    from rlcache.envs.features import feature_set_names
    from rlcache.envs.trace_replay import agent_replay, baseline_rows

    if isinstance(config, Mapping):
        config = CacheEnvConfig.from_kwargs(**{k: v for k, v in config.items() if k != "name"})
    trace = config.load_trace() if trace is None else trace
    capacity = config.capacity_for(trace)
    scorer = None
    compiled = ("basic", "extended", "history")
    if config.features in compiled and set(config.candidates) <= set(SOURCES):
        scorer = engine_scorer(layers, len(feature_set_names(config.features, 1)))
    if scorer is not None:  # load the compiled kernel first: the timing is the replay's
        from rlcache.engine import Engine

        Engine(1, ["lru"]).replay([0])
    t0 = time.perf_counter()
    if scorer is not None:
        hits = _engine_hits(config, trace, capacity, scorer)
    elif select is not None:
        hits = agent_replay(select, config, trace, capacity)
    else:
        raise ValueError("trace_report needs the scorer's layers or a select function")
    seconds = time.perf_counter() - t0
    n = len(trace)
    agent = {"hits": hits, "requests": n, "hit_ratio": hits / n if n else 0.0,
             "miss_ratio": 1.0 - hits / n if n else 0.0}
    out = baseline_rows(agent, trace, capacity, EVAL_POLICIES if policies is None
                        else policies, config.seed)
    add_timing(out["agent"], seconds)
    return out


def add_timing(row: dict[str, Any], seconds: float) -> dict[str, Any]:
    """``replay_seconds`` and ``requests_per_second`` of a row's replay (in place)."""
    row["replay_seconds"] = seconds
    row["requests_per_second"] = row["requests"] / seconds if seconds > 0 else None
    return row


# ---- a checkpoint's network, greedy (torch) ----------------------------------------------
class GreedyAgent:
    """A checkpoint's Q-network alone: ``select_action(obs)`` is its argmax."""

    def __init__(self, agent_state: Mapping[str, Any]) -> None:
        import torch

        from rlcache.agents.config import DQNConfig
        from rlcache.agents.dqn import apply_thread_policy
        from rlcache.agents.networks import build_q_network

        saved = dict(agent_state["config"])
        self.config = DQNConfig(**saved)
        self.q_net = build_q_network(self.config)
        self.q_net.load_state_dict(agent_state["q_net"])
        self.q_net.eval()
        apply_thread_policy(self.config.torch_threads, torch.device("cpu"))
        self._torch = torch
        self._in = torch.zeros(1, self.config.state_dim)

    def select_action(self, obs: Any, evaluate: bool = True) -> int:
        """The greedy action (``evaluate`` is accepted for the agent interface)."""
        self._in[0] = self._torch.as_tensor(np.asarray(obs, dtype=np.float32))
        with self._torch.inference_mode():
            return int(self.q_net(self._in).argmax(dim=1).item())


def greedy_agent(agent_state: Mapping[str, Any]) -> GreedyAgent:
    """The greedy policy of a checkpoint's ``agent`` payload (no optimizer, no buffer)."""
    return GreedyAgent(agent_state)


# ---- greedy episodes ---------------------------------------------------------------------
def run_episode(env: Any, select: Callable[..., int], seed: int | None,
                max_steps: int) -> dict[str, Any]:
    """One greedy episode on ``env`` reset with ``seed``: reward, length, last info."""
    obs, info = env.reset(seed=seed)
    total = 0.0
    t = 0
    while True:
        obs, reward, terminated, truncated, info = env.step(select(obs, evaluate=True))
        total += reward
        t += 1
        if terminated or truncated or t >= max_steps:
            break
    return {"reward": float(total), "length": t, "info": info}


def run_episodes(env: Any, select: Callable[..., int], seeds: Sequence[int],
                 max_steps: int) -> list[dict[str, Any]]:
    """Greedy episodes, one per seed."""
    return [run_episode(env, select, seed, max_steps) for seed in seeds]


def agent_scorer(agent: Any) -> Any:
    """An engine ``Scorer`` of a live agent's candidate network as it is now, else None."""
    scorer = getattr(agent, "engine_scorer", None)
    return scorer() if callable(scorer) else None


def greedy_episodes(env: Any, agent: Any, seeds: Sequence[int],
                    max_steps: int) -> list[dict[str, Any]]:
    """``run_episodes(env, agent.select_action, ...)``; on an env with ``greedy_episode``
    (the compiled cache env, unwrapped) a candidate scorer plays each episode in the
    engine: the same rewards, except where a float-order near-tie of two candidates'
    scores goes the other way (the engine's sums run in another order than torch's)."""
    play = getattr(type(env), "greedy_episode", None)
    scorer = agent_scorer(agent) if play is not None else None
    results = []
    for seed in seeds:
        done = play(env, scorer, seed, max_steps) if scorer is not None else None
        results.append(done if done is not None
                       else run_episode(env, agent.select_action, seed, max_steps))
    return results


def episode_stats(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean / std / min / max reward, rewards, lengths and the mean ``hit_ratio`` if any."""
    rewards = np.array([r["reward"] for r in results], dtype=float)
    stats: dict[str, Any] = {
        "episodes": len(results),
        "mean_reward": float(rewards.mean()),
        "std_reward": float(rewards.std()),
        "min_reward": float(rewards.min()),
        "max_reward": float(rewards.max()),
        "rewards": [float(r) for r in rewards],
        "lengths": [r["length"] for r in results],
    }
    ratios = [r["info"]["hit_ratio"] for r in results
              if isinstance(r["info"], dict) and "hit_ratio" in r["info"]]
    if ratios:
        stats["hit_ratio"] = float(np.mean(ratios))
    return stats
