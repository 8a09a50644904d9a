"""DQN agent: shapes, targets, schedules and an exact state_dict round trip."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from rlcache.agents import DQNAgent, DQNConfig, linear_epsilon
from rlcache.errors import UserError
from rlcache.serialization import safe_torch_load


def small_config(**kw) -> DQNConfig:
    base = dict(state_dim=6, action_dim=3, hidden_sizes=[16, 16], batch_size=8,
                buffer_size=200, learning_starts=16, train_freq=2, gradient_steps=2,
                target_update_interval=10, exploration_steps=50, seed=3)
    base.update(kw)
    return DQNConfig(**base)


def feed(agent: DQNAgent, steps: int, seed: int = 0) -> list[dict | None]:
    rng = np.random.default_rng(seed)
    outs = []
    obs = rng.normal(size=agent.config.state_dim).astype(np.float32)
    for t in range(steps):
        action = agent.select_action(obs)
        nxt = rng.normal(size=agent.config.state_dim).astype(np.float32)
        agent.store_transition(obs, action, float(rng.random()), nxt, t % 17 == 16, False)
        outs.append(agent.train_step())
        obs = nxt
    return outs


@pytest.mark.parametrize("network,dueling", [("mlp", False), ("mlp", True), ("candidate", False)])
def test_q_values_shape(network: str, dueling: bool) -> None:
    cfg = small_config(state_dim=3 * 5 + 2, action_dim=3, network=network, dueling=dueling,
                       candidate_features=5, global_features=2)
    agent = DQNAgent(cfg)
    assert agent.q_values(np.zeros(cfg.state_dim)).shape == (1, 3)
    assert agent.q_values(np.zeros((5, cfg.state_dim))).shape == (5, 3)
    assert 0 <= agent.select_action(np.zeros(cfg.state_dim), evaluate=True) < 3


def test_candidate_scorer_is_permutation_equivariant() -> None:
    cfg = small_config(state_dim=3 * 4 + 2, action_dim=3, network="candidate",
                       candidate_features=4, global_features=2)
    agent = DQNAgent(cfg)
    obs = np.random.default_rng(0).normal(size=cfg.state_dim).astype(np.float32)
    blocks = obs[:12].reshape(3, 4)
    perm = [2, 0, 1]
    permuted = np.concatenate([blocks[perm].ravel(), obs[12:]])
    np.testing.assert_allclose(agent.q_values(permuted)[0], agent.q_values(obs)[0][perm],
                               rtol=1e-5, atol=1e-6)


def test_learning_starts_and_train_freq() -> None:
    agent = DQNAgent(small_config())
    outs = feed(agent, 40)
    learned = [i + 1 for i, o in enumerate(outs) if o is not None]
    assert learned[0] == 16
    assert all(step % 2 == 0 for step in learned)
    assert agent.num_updates == len(learned) * 2
    assert {"loss", "q_mean"} <= set(outs[-1])


def test_hard_target_update_copies_on_schedule() -> None:
    # Learning at steps 16, 20, 24, 28 (after the copy at 20); copies at 10, 20, 30.
    agent = DQNAgent(small_config(target_update_interval=10, tau=1.0, train_freq=4))
    feed(agent, 25)
    online = agent.q_net.state_dict()
    target = agent.target_net.state_dict()
    assert any(not torch.equal(online[k], target[k]) for k in online)
    feed(agent, 5, seed=1)  # step 30 copies and does not learn
    assert all(torch.equal(agent.q_net.state_dict()[k], agent.target_net.state_dict()[k])
               for k in online)


def test_soft_target_update_is_polyak() -> None:
    agent = DQNAgent(small_config(tau=0.25, target_update_interval=1))
    before = copy.deepcopy(agent.target_net.state_dict())
    with torch.no_grad():
        for p in agent.q_net.parameters():
            p.add_(1.0)
    agent._update_target()
    for k, v in agent.target_net.state_dict().items():
        expected = before[k] + 0.25 * (agent.q_net.state_dict()[k] - before[k])
        torch.testing.assert_close(v, expected)


def test_double_dqn_target_differs_where_it_should() -> None:
    torch.manual_seed(0)
    plain = DQNAgent(small_config(double_q=False))
    double = DQNAgent(small_config(double_q=True))
    # Make the online net prefer action 0 and the target net score action 0 low.
    for agent in (plain, double):
        agent.q_net.load_state_dict(plain.q_net.state_dict())
        with torch.no_grad():
            last_online = list(agent.q_net.parameters())[-1]
            last_online.copy_(torch.tensor([5.0, 0.0, 0.0]))
            agent.target_net.load_state_dict(agent.q_net.state_dict())
            last_target = list(agent.target_net.parameters())[-1]
            last_target.copy_(torch.tensor([-5.0, 3.0, 1.0]))
    next_obs = torch.zeros(4, 6)
    rewards = torch.ones(4)
    dones = torch.tensor([0.0, 0.0, 0.0, 1.0])
    q_target = plain.target_net(next_obs)
    q_online = plain.q_net(next_obs)
    chosen = q_target.gather(1, q_online.argmax(1, keepdim=True)).squeeze(1)
    exp_double = rewards + 0.99 * (1 - dones) * chosen
    exp_plain = rewards + 0.99 * (1 - dones) * q_target.max(1).values
    torch.testing.assert_close(double.td_target(rewards, next_obs, dones), exp_double)
    torch.testing.assert_close(plain.td_target(rewards, next_obs, dones), exp_plain)
    assert not torch.allclose(exp_double[:3], exp_plain[:3])
    torch.testing.assert_close(exp_double[3], exp_plain[3])  # terminal: no bootstrap


def test_epsilon_schedule() -> None:
    assert linear_epsilon(0, 1.0, 0.1, 100) == 1.0
    assert linear_epsilon(50, 1.0, 0.1, 100) == pytest.approx(0.55)
    assert linear_epsilon(100, 1.0, 0.1, 100) == 0.1
    assert linear_epsilon(10_000, 1.0, 0.1, 100) == 0.1
    agent = DQNAgent(small_config(exploration_steps=50, epsilon_start=1.0, epsilon_end=0.2))
    feed(agent, 25)
    assert agent.epsilon == pytest.approx(0.6)
    assert agent.get_metrics()["epsilon"] == pytest.approx(0.6)


def test_evaluate_mode_is_greedy_and_leaves_counters() -> None:
    agent = DQNAgent(small_config())
    obs = np.ones(6, dtype=np.float32)
    state = agent.rng.bit_generator.state
    greedy = {agent.select_action(obs, evaluate=True) for _ in range(20)}
    assert len(greedy) == 1
    assert agent.rng.bit_generator.state == state
    assert agent.num_steps == 0


def test_state_dict_round_trip_is_exact(tmp_path) -> None:
    agent = DQNAgent(small_config(double_q=True))
    feed(agent, 60)
    path = tmp_path / "agent.pt"
    agent.save(str(path))
    clone = DQNAgent(small_config(double_q=True, seed=99))  # different init, then loaded
    clone.load(str(path))
    out_a = feed(agent, 60, seed=5)
    out_b = feed(clone, 60, seed=5)
    assert out_a == out_b  # identical actions, losses and Q-values
    for k, v in agent.q_net.state_dict().items():
        assert torch.equal(v, clone.q_net.state_dict()[k])
    assert agent.get_metrics() == clone.get_metrics()


def test_state_dict_is_weights_only_safe(tmp_path) -> None:
    agent = DQNAgent(small_config())
    feed(agent, 30)
    agent.save(str(tmp_path / "a.pt"))
    state = safe_torch_load(tmp_path / "a.pt")
    assert state["num_steps"] == 30 and state["replay"]["size"] == 30


def test_load_rejects_other_state_size(tmp_path) -> None:
    agent = DQNAgent(small_config())
    agent.save(str(tmp_path / "a.pt"))
    other = DQNAgent(small_config(state_dim=7))
    with pytest.raises(UserError, match="state_dim"):
        other.load(str(tmp_path / "a.pt"))


@pytest.mark.parametrize("field,value", [("batch_size", 0), ("gamma", 1.5), ("tau", 0.0),
                                         ("hidden_sizes", []), ("network", "cnn"),
                                         ("learning_rate", -1.0)])
def test_config_validation_names_the_field(field: str, value) -> None:
    with pytest.raises(UserError, match=f"rl.{field}"):
        small_config(**{field: value}).validate()
