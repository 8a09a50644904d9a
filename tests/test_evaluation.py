"""Evaluation without a Trainer: the compiled whole-trace replay against the torch path, and
greedy episodes as the Trainer runs them."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from rlcache.agents import DQNAgent
from rlcache.agents.config import DQNConfig
from rlcache.agents.networks import build_q_network
from rlcache.envs.cache_env import CacheEnv, CacheEnvConfig
from rlcache.envs.mock import MockCacheEnvironment as MockEnv
from rlcache.envs.trace_replay import evaluate_on_trace
from rlcache.evaluation import (
    TIMING_KEYS,
    GreedyAgent,
    episode_stats,
    greedy_episodes,
    run_episodes,
    scorer_layers,
    trace_report,
)

ENV = {"workload": "shift", "requests": 6000, "objects": 800, "cache_size": 50,
       "features": "extended", "candidates": ["lru", "lfu", "fifo", "mru", "lrfu", "random",
                                              "random", "random"], "ghost_factor": 2.0}


def _agent_state(network: str, seed: int) -> dict:
    k = len(ENV["candidates"])
    cfg = DQNConfig(state_dim=k * 13 + 4, action_dim=k, hidden_sizes=[64, 64],
                    network=network, candidate_features=13, global_features=4)
    torch.manual_seed(seed)
    return {"config": cfg.to_dict(), "q_net": build_q_network(cfg).state_dict()}


def test_compiled_replay_gives_the_torch_paths_table() -> None:
    torch.set_num_threads(1)
    state = _agent_state("candidate", 3)
    agent = GreedyAgent(state)
    reference = evaluate_on_trace(agent.select_action, ENV)
    fast = trace_report(ENV, layers=scorer_layers(state))
    assert all(fast["agent"].pop(key) > 0 for key in TIMING_KEYS)
    assert fast == reference


def test_other_networks_replay_through_select() -> None:
    state = _agent_state("mlp", 1)
    assert scorer_layers(state) is None
    agent = GreedyAgent(state)
    table = trace_report(ENV, select=agent.select_action, policies=("LRU",))
    assert table["agent"] == {**evaluate_on_trace(agent.select_action, ENV,
                                                  policies=("LRU",))["agent"],
                              **{k: table["agent"][k] for k in TIMING_KEYS}}
    assert set(table) == {"agent", "LRU"}


def test_greedy_episodes_are_seeded() -> None:
    env = MockEnv()
    obs_dim = env.observation_space.shape[0]
    cfg = DQNConfig(state_dim=obs_dim, action_dim=int(env.action_space.n), hidden_sizes=[8])
    torch.manual_seed(0)
    agent = GreedyAgent({"config": cfg.to_dict(), "q_net": build_q_network(cfg).state_dict()})
    first = run_episodes(env, agent.select_action, [5, 6, 7], 50)
    again = run_episodes(env, agent.select_action, [5, 6, 7], 50)
    assert [r["reward"] for r in first] == [r["reward"] for r in again]
    stats = episode_stats(first)
    assert stats["episodes"] == 3
    assert stats["mean_reward"] == np.mean([r["reward"] for r in first])


@pytest.mark.parametrize(("features", "reward", "chunk"), [
    ("extended", "oracle", None), ("history", "hits", 700), ("extended", "hits_oracle", 900),
    ("basic", "belady", None)])
def test_engine_greedy_episodes_equal_stepping_the_torch_network(
        features: str, reward: str, chunk: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Trainer's evaluation episodes on a compiled cache env (the scorer in the engine,
    one call per episode) give run_episode's results with the torch network: rewards
    summed alike, lengths, last infos; also cut by max_steps and across refills of the
    decay weights (``chunk``: their chunk shortened to cross several per episode)."""
    if chunk is not None:
        monkeypatch.setattr("rlcache.engine.core._W_CHUNK", chunk)
    k = len(ENV["candidates"])
    kw = {"workload": "zipf_scan", "requests": 9000, "objects": 1200, "cache_size": 60,
          "window": 2500, "features": features, "reward": reward,
          "candidates": ENV["candidates"]}
    env = CacheEnv(CacheEnvConfig.from_kwargs(**kw))
    if features == "history":  # the cache_trace recipe's held-out validation env
        env = CacheEnv(CacheEnvConfig.from_kwargs(
            **{**kw, "validation": 0.4, "cache_sizes": [40, 90]})).validation_env()
    nf = int(env.candidate_features)
    agent = DQNAgent(DQNConfig(state_dim=k * nf + 4, action_dim=k, network="candidate",
                               candidate_features=nf, global_features=4,
                               hidden_sizes=[64, 64], seed=4))
    torch.set_num_threads(1)
    for limit in (10**6, 25):
        stepped = copy.deepcopy(env)
        fast = greedy_episodes(env, agent, [1, 2, 3], limit)
        slow = run_episodes(stepped, agent.select_action, [1, 2, 3], limit)
        assert fast == slow
        assert all(r["length"] == min(limit, r["info"]["evictions"]) for r in fast)
    assert fast[0]["length"] == 25
