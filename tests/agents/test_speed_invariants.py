"""The fast paths of the DQN update compute what the plain PyTorch recipe computes."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rlcache.agents import DQNAgent, DQNConfig
from rlcache.agents.dqn import _clip_grad_norm, apply_thread_policy
from rlcache.errors import UserError


def filled_agent(**kw) -> DQNAgent:
    base = dict(state_dim=5, action_dim=3, hidden_sizes=[32, 32], batch_size=16,
                buffer_size=500, learning_starts=0, train_freq=1, gradient_steps=4,
                target_update_interval=1000, learning_rate=1e-2, seed=7, device="cpu")
    base.update(kw)
    agent = DQNAgent(DQNConfig(**base))
    rng = np.random.default_rng(1)
    for _ in range(300):
        agent.replay.add(rng.normal(size=5), int(rng.integers(3)), float(rng.normal()),
                         rng.normal(size=5), bool(rng.random() < 0.1))
    return agent


def reference_learn(agent: DQNAgent, n: int) -> tuple[float, float]:
    """The textbook loop: per-update td_target, clip_grad_norm_, optimizer.step()."""
    c = agent.config
    rows = n * c.batch_size
    idx = agent.replay.sample_indices(agent.rng, rows)
    obs, actions, rewards, next_obs, dones = (torch.from_numpy(a)
                                              for a in agent.replay.get(idx))
    losses, qs = [], []
    for i in range(n):
        s = slice(i * c.batch_size, (i + 1) * c.batch_size)
        target = agent.td_target(rewards[s], next_obs[s], dones[s])
        q = agent.q_net(obs[s]).gather(1, actions[s].unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(q, target)
        agent.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(agent.q_net.parameters(), c.max_grad_norm, foreach=True)
        agent.optimizer.step()
        losses.append(float(loss.detach()))
        qs.append(float(q.detach().mean()))
    return float(np.mean(losses)), float(np.mean(qs))


@pytest.mark.parametrize("double_q", [False, True])
def test_burst_update_matches_reference(double_q: bool) -> None:
    fast = filled_agent(double_q=double_q)
    ref = copy.deepcopy(fast)
    for _ in range(3):  # the first call initialises Adam's state through optimizer.step()
        got = fast._learn(4)
        want = reference_learn(ref, 4)
        assert got == pytest.approx(want, rel=1e-5, abs=1e-6)
    for k, v in fast.q_net.state_dict().items():
        torch.testing.assert_close(v, ref.q_net.state_dict()[k], rtol=1e-5, atol=1e-6)
    assert fast.num_updates == 12
    assert fast.rng.bit_generator.state == ref.rng.bit_generator.state


def test_direct_fused_adam_equals_optimizer_step_bit_for_bit() -> None:
    a = filled_agent()
    a._learn(2)  # Adam state exists now
    b = copy.deepcopy(a)
    for agent in (a, b):
        agent.q_net.zero_grad(set_to_none=True)
        agent.q_net(torch.ones(4, 5)).pow(2).sum().backward()
    a._optimizer_step()
    b.optimizer.step()
    for k, v in a.q_net.state_dict().items():
        assert torch.equal(v, b.q_net.state_dict()[k])
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    for i, st in sa["state"].items():
        for key, value in st.items():
            assert torch.equal(value, sb["state"][i][key])


def test_clip_matches_torch_bit_for_bit() -> None:
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(7, 3)) for _ in range(3)]
    for p in params:
        p.grad = torch.randn_like(p) * 10
    clones = [torch.nn.Parameter(p.detach().clone()) for p in params]
    for c, p in zip(clones, params, strict=True):
        c.grad = p.grad.clone()
    _clip_grad_norm(params, 1.0)
    torch.nn.utils.clip_grad_norm_(clones, 1.0, foreach=True)
    for c, p in zip(clones, params, strict=True):
        assert torch.equal(c.grad, p.grad)


def test_same_seed_same_run_bit_for_bit() -> None:
    a, b = filled_agent(double_q=True), filled_agent(double_q=True)
    for _ in range(5):
        assert a._learn(4) == b._learn(4)
    for k, v in a.q_net.state_dict().items():
        assert torch.equal(v, b.q_net.state_dict()[k])


def test_select_action_is_the_network_argmax() -> None:
    agent = filled_agent()
    agent._learn(4)
    obs = np.random.default_rng(3).normal(size=(50, 5)).astype(np.float32)
    greedy = [agent.select_action(o, evaluate=True) for o in obs]
    assert greedy == [int(np.argmax(agent.q_values(o)[0])) for o in obs]


def test_thread_policy(monkeypatch) -> None:
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("RLCACHE_TORCH_THREADS", raising=False)
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        torch.set_num_threads(2)
        apply_thread_policy(None, torch.device("cpu"))
        assert torch.get_num_threads() == 1
        apply_thread_policy(2, torch.device("cpu"))
        assert torch.get_num_threads() == 2
        apply_thread_policy(0, torch.device("cpu"))  # leave as is
        assert torch.get_num_threads() == 2
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        apply_thread_policy(None, torch.device("cpu"))
        assert torch.get_num_threads() == 2
        monkeypatch.setenv("RLCACHE_TORCH_THREADS", "1")
        apply_thread_policy(None, torch.device("cpu"))
        assert torch.get_num_threads() == 1
        DQNAgent(DQNConfig(state_dim=3, action_dim=2, device="cpu", torch_threads=2))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_torch_threads_validation(value) -> None:
    with pytest.raises(UserError, match=r"rl\.torch_threads"):
        DQNConfig(torch_threads=value).validate()


@pytest.mark.parametrize("double_q", [False, True])
def test_gamma_zero_skips_the_next_states_bit_exactly(double_q: bool) -> None:
    """gamma 0 takes the shortcut (targets = rewards); 1e-300 rounds to a float32 discount
    of exactly 0 on the full path: the same weights after the same updates."""
    short = filled_agent(double_q=double_q, gamma=0.0, gradient_steps=2)
    full = filled_agent(double_q=double_q, gamma=1e-300, gradient_steps=2)
    assert float(torch.tensor(1.0).mul_(1e-300)) == 0.0
    calls = {"n": 0}
    forward = full.target_net.forward

    def counted(x: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        return forward(x)

    full.target_net.forward = counted  # type: ignore[method-assign]
    for _ in range(4):
        assert short._learn(2) == full._learn(2)
    assert calls["n"] == 4  # the full path did run the target network
    for (k, a), b in zip(short.q_net.state_dict().items(), full.q_net.state_dict().values(),
                         strict=True):
        assert torch.equal(a, b), k


def _candidate_agent() -> DQNAgent:
    k, nf = 16, 13
    agent = DQNAgent(DQNConfig(state_dim=k * nf + 4, action_dim=k, network="candidate",
                               candidate_features=nf, global_features=4,
                               hidden_sizes=[64, 64], batch_size=32, learning_starts=0,
                               learning_rate=1e-2, epsilon_start=0.0, epsilon_end=0.0,
                               gamma=0.0, seed=2, device="cpu"))
    rng = np.random.default_rng(5)
    for _ in range(200):
        agent.replay.add(rng.random(agent.config.state_dim), int(rng.integers(k)),
                         float(rng.normal()), rng.random(agent.config.state_dim), False)
    return agent


def _torch_greedy(agent: DQNAgent, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """torch's argmax and, per row, the gap between its two best scores."""
    q = agent.q_values(obs)
    top = np.sort(q, axis=1)
    return q.argmax(axis=1), top[:, -1] - top[:, -2]


def test_candidate_greedy_is_the_network_argmax_up_to_float_order() -> None:
    """Greedy actions of a candidate network come from the engine's compiled scorer,
    rebuilt whenever a weight changes (a learning step, a loaded state). Its float32
    sums run in another order than torch's GEMM: a row may decide otherwise only where
    torch's two best scores are within 1e-5 of the row's largest score."""
    agent = _candidate_agent()
    obs = np.random.default_rng(9).random((400, agent.config.state_dim), dtype=np.float32)
    obs[:, ::3] = 0.0  # zeros, as sparse features give
    other = _candidate_agent()
    other._learn(3)
    for step in range(4):
        if step == 1:
            agent._learn(2)
        if step == 2:
            agent.load_state_dict(other.state_dict())
        if step == 3:
            with torch.no_grad():  # an edit in place, outside any agent method
                agent.q_net.scorer[0].weight.mul_(1.5)
        got = agent.select_actions(obs)
        want, gap = _torch_greedy(agent, obs)
        differ = got != want
        assert differ.mean() <= 0.01
        q = agent.q_values(obs)
        scale = np.abs(q).max(axis=1)
        assert (gap[differ] <= 1e-5 * scale[differ]).all()
        assert [agent.select_action(o, evaluate=True) for o in obs[:50]] == got[:50].tolist()


def test_candidate_update_scores_only_the_taken_candidates() -> None:
    """A candidate network's update computes the taken candidates' Q-values alone: the
    values and the gradients of the full forward's gathered entries, up to float order
    (torch's GEMM sums 64 rows in another order than 1024)."""
    agent = _candidate_agent()
    obs, actions, *_ = (torch.from_numpy(a) for a in agent.replay.get(np.arange(64)))
    full = agent.q_net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
    some = agent.q_net.score_actions(obs, actions)
    assert torch.allclose(full, some, rtol=1e-5, atol=1e-6)
    grads = []
    for q in (full, some):
        agent.q_net.zero_grad()
        (q ** 2).mean().backward(retain_graph=True)
        grads.append([p.grad.clone() for p in agent.q_net.parameters()])
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)
    twin = copy.deepcopy(agent)
    loss, _ = agent._learn(3)
    ref_loss, _ = reference_learn(twin, 3)
    assert abs(loss - ref_loss) <= 1e-5 * max(1.0, abs(ref_loss))
    for (k, v), w in zip(agent.q_net.state_dict().items(), twin.q_net.state_dict().values(),
                         strict=True):
        assert torch.allclose(v, w, rtol=1e-4, atol=1e-6), k
