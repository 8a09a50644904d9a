"""training.num_envs: the batched agent calls equal the one-at-a-time ones, and a vector
run on the (compiled) cache env resumes bit for bit at round boundaries."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from rlcache.agents import DQNAgent, DQNConfig
from rlcache.agents.replay import ReplayBuffer
from rlcache.envs.cache_env import CacheEnv, CacheEnvConfig
from rlcache.errors import UserError
from rlcache.training import Trainer, TrainingConfig

from .conftest import assert_same_agent, load_metrics, script

K = ["lru", "lfu", "fifo", "mru", "random", "random"]


def _env() -> CacheEnv:
    return CacheEnv(CacheEnvConfig.from_kwargs(
        workload="zipf_scan", requests=12_000, objects=1_500, cache_size=0.05, window=1_200,
        reward="oracle", features="extended", candidates=K))


def _agent(**kw: object) -> DQNAgent:
    base = dict(state_dim=13 * len(K) + 4, action_dim=len(K), network="candidate",
                candidate_features=13, global_features=4, hidden_sizes=[16, 16],
                buffer_size=3000, learning_starts=100, batch_size=16, train_freq=2,
                gamma=0.0, exploration_steps=800, target_update_interval=50, seed=3)
    base.update(kw)
    return DQNAgent(DQNConfig(**base))


def _trainer(out: Path, episodes: int, num_envs: int = 3) -> Trainer:
    cfg = TrainingConfig(max_episodes=episodes, max_steps_per_episode=10_000,
                         eval_frequency=4, eval_episodes=1, checkpoint_frequency=3,
                         keep_last=5, early_stopping=False, seed=5, plot_frequency=1000,
                         verbose=False, num_envs=num_envs)
    return Trainer(_agent(), _env(), cfg, out, eval_env=_env())


def test_select_actions_draws_as_one_call_per_row() -> None:
    rng = np.random.default_rng(0)
    obs = rng.random((5, 13 * len(K) + 4), dtype=np.float32)
    for steps in (0, 400, 5000):  # epsilon 1, mid-way, at its floor
        batched = _agent()
        batched.num_steps = steps
        single = copy.deepcopy(batched)
        got = batched.select_actions(obs)
        want = [single.select_action(o) for o in obs]
        assert got.tolist() == want
        assert batched.rng.bit_generator.state == single.rng.bit_generator.state


@pytest.mark.parametrize("batches", [[3, 4, 5], [7, 1, 9], [25]])
def test_add_batch_equals_adds(batches: list[int]) -> None:
    rng = np.random.default_rng(1)
    a, b = ReplayBuffer(10, 3), ReplayBuffer(10, 3)
    for m in batches:
        obs, nxt = rng.random((m, 3)), rng.random((m, 3))
        act, rew, done = rng.integers(4, size=m), rng.random(m), rng.random(m) < 0.3
        a.add_batch(obs, act, rew, nxt, done)
        for i in range(m):
            b.add(obs[i], int(act[i]), float(rew[i]), nxt[i], bool(done[i]))
        assert (a.pos, a.size) == (b.pos, b.size)
        for key in ("obs", "next_obs", "actions", "rewards", "dones"):
            assert np.array_equal(getattr(a, key), getattr(b, key)), key


def test_train_step_vector_counts_as_sb3() -> None:
    agent = _agent(train_freq=3, target_update_interval=10, learning_starts=0)
    agent.replay.add_batch(*(np.zeros((20, agent.config.state_dim)), np.zeros(20, int),
                             np.zeros(20), np.zeros((20, agent.config.state_dim)),
                             np.zeros(20)))
    learned, targets = [], []
    agent._update_target = lambda: targets.append(agent.num_steps)  # type: ignore[method-assign]
    for v in range(1, 10):
        agent.num_steps += 4  # a vector step of 4 transitions
        if agent.train_step_vector(4) is not None:
            learned.append(v)
    assert learned == [3, 6, 9]  # train_freq counts vector steps
    assert targets == [12, 20, 32]  # each multiple of 10 transitions passed: once


def test_vector_run_resumes_bit_exactly(tmp_path: Path) -> None:
    one_go = _trainer(tmp_path / "a", 9)
    one_go.train()
    data = load_metrics(tmp_path / "a")
    assert data["total_episodes"] == 9 and len(data["episode_rewards"]) == 9
    assert [e["episode"] for e in data["evaluations"]] == [6, 9]  # rounds end at 3, 6, 9
    assert data["total_steps"] == sum(data["episode_lengths"]) == one_go.agent.num_steps
    assert one_go.agent.num_vector_steps < one_go.agent.num_steps
    assert data["losses"][-1] is not None
    _trainer(tmp_path / "b", 6).train()
    resumed = _trainer(tmp_path / "b", 9)
    resumed.load_checkpoint(tmp_path / "b")
    resumed.train()
    assert load_metrics(tmp_path / "b") == data
    assert_same_agent(one_go.agent, resumed.agent)


def test_one_env_is_the_plain_loop(tmp_path: Path) -> None:
    plain = _trainer(tmp_path / "a", 3, num_envs=1)
    plain.train()
    assert plain.agent.num_vector_steps == 0 and len(plain.envs) == 1
    with pytest.raises(UserError, match="num_envs"):
        TrainingConfig(num_envs=0).validate()


def test_every_checkpoint_of_a_vector_run_is_a_round_end_and_resumes_exactly(
        tmp_path: Path) -> None:
    """At num_envs 3 every checkpoint (due every 4 episodes, evaluations every 6) lands at
    a round's end, and a run resumed from any one of them equals the uninterrupted run:
    whatever instant a crash picks, the newest intact checkpoint is one of these (the
    writes' crash-safety does not depend on num_envs; tests/reliability kills at 3 too)."""
    over = {"num_envs": 3, "keep_last": 100}
    ref = script.build(tmp_path / "ref", 10, **over)
    ref.train()
    data = load_metrics(tmp_path / "ref")
    saved = sorted((tmp_path / "ref" / "checkpoints").glob("checkpoint_ep*.pt"),
                   key=lambda p: int(p.stem.removeprefix("checkpoint_ep")))
    episodes = [int(p.stem.removeprefix("checkpoint_ep")) for p in saved]
    assert episodes == [6, 9]  # rounds end at 3, 6, 9 and 10 (the last is short)
    for pt in saved:
        out = tmp_path / pt.stem
        resumed = script.build(out, 10, **over)
        resumed.load_checkpoint(pt)
        resumed.train()
        assert load_metrics(out) == data, pt.name
        assert_same_agent(ref.agent, resumed.agent)
