"""The floor under DQN training speed: one gradient update and one action forward pass.

    .venv/bin/python bench/update_floor.py [--threads 1] [--repeats 5] [--updates 500]

Times, per operation and in one process run (variants alternate, best of ``--repeats``):

- ``rlcache _learn(1)``: one ``DQNAgent._learn`` update (sample a batch of 64 from a
  50,000-transition buffer, Double-DQN target, Huber loss, clip to norm 10, Adam), net
  [256, 256].
- ``rlcache burst of 128``: ``DQNAgent._learn(128)`` (what ``train_step`` runs with
  ``gradient_steps=128``; batches sampled at once, one target-net pass), per update,
  for Double DQN and for plain DQN (the RL Zoo CartPole config).
- ``floor (hand-written)``: the same update as a minimal single-file torch loop
  (``nn.Sequential``, ``torch.optim.Adam(fused=True)``, ``F.smooth_l1_loss``,
  ``clip_grad_norm_``), the batch sampled with numpy fancy indexing.
- ``sb3-style (foreach=False Adam)``: the floor with PyTorch's default CPU Adam, which is
  what Stable-Baselines3 uses.
- ``rlcache select_action``: one greedy action (``evaluate=True``) from a 4-dim observation.
- ``floor forward``: ``q_net(x).argmax()`` under ``torch.no_grad()`` on a prepared tensor.

Times are this process's CPU time per op (``--wall`` for wall-clock): on a shared 2-core
machine that is far steadier than wall time (with several threads it sums them, which is
what they cost). Absolute times are noise anyway; compare the rows with each other.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rlcache.agents import DQNAgent, DQNConfig

STATE_DIM, ACTION_DIM, HIDDEN, BATCH, FILLED = 4, 2, [256, 256], 64, 50_000


def make_agent(double_q: bool = True) -> DQNAgent:
    cfg = DQNConfig(state_dim=STATE_DIM, action_dim=ACTION_DIM, hidden_sizes=HIDDEN,
                    batch_size=BATCH, buffer_size=100_000, learning_rate=2.3e-3,
                    double_q=double_q, device="cpu", seed=0)
    agent = DQNAgent(cfg)
    rng = np.random.default_rng(0)
    for _ in range(FILLED):
        agent.replay.add(rng.standard_normal(STATE_DIM), int(rng.integers(ACTION_DIM)), 1.0,
                         rng.standard_normal(STATE_DIM), bool(rng.random() < 0.02))
    return agent


class HandWritten:
    """A minimal Double-DQN update in plain torch: what any hand-written loop would do."""

    def __init__(self, replay_src: DQNAgent, fused: bool) -> None:
        torch.manual_seed(0)
        self.q = nn.Sequential(nn.Linear(STATE_DIM, 256), nn.ReLU(), nn.Linear(256, 256),
                               nn.ReLU(), nn.Linear(256, ACTION_DIM))
        self.target = nn.Sequential(nn.Linear(STATE_DIM, 256), nn.ReLU(), nn.Linear(256, 256),
                                    nn.ReLU(), nn.Linear(256, ACTION_DIM))
        self.target.load_state_dict(self.q.state_dict())
        self.target.requires_grad_(False)
        kw = {"fused": True} if fused else {"foreach": False}
        self.opt = torch.optim.Adam(self.q.parameters(), lr=2.3e-3, **kw)
        r = replay_src.replay
        self.obs, self.next_obs = r.obs[:FILLED], r.next_obs[:FILLED]
        self.actions, self.rewards, self.dones = (r.actions[:FILLED], r.rewards[:FILLED],
                                                  r.dones[:FILLED])
        self.rng = np.random.default_rng(0)

    def update(self) -> float:
        idx = self.rng.integers(0, FILLED, BATCH)
        obs = torch.from_numpy(self.obs[idx])
        next_obs = torch.from_numpy(self.next_obs[idx])
        actions = torch.from_numpy(self.actions[idx])
        rewards = torch.from_numpy(self.rewards[idx])
        dones = torch.from_numpy(self.dones[idx])
        with torch.no_grad():
            best = self.q(next_obs).argmax(1, keepdim=True)
            next_q = self.target(next_obs).gather(1, best).squeeze(1)
            target = rewards + 0.99 * (1.0 - dones) * next_q
        q = self.q(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(q, target)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.q.parameters(), 10.0)
        self.opt.step()
        return float(loss.detach())


def per_op_ms(fn: Callable[[], object], n: int, clock: Callable[[], float]) -> float:
    start = clock()
    for _ in range(n):
        fn()
    return (clock() - start) / n * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads for every variant (default 1)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--updates", type=int, default=500, help="updates per repeat")
    parser.add_argument("--forwards", type=int, default=5000, help="forwards per repeat")
    parser.add_argument("--wall", action="store_true",
                        help="time wall-clock instead of this process's CPU time")
    args = parser.parse_args()

    agent = make_agent()
    plain = make_agent(double_q=False)
    # The agent applies its thread policy when built; the bench overrides it for all.
    torch.set_num_threads(args.threads)
    fused, foreach_off = HandWritten(agent, fused=True), HandWritten(agent, fused=False)
    obs_np = np.asarray([0.01, -0.02, 0.03, 0.04], dtype=np.float32)
    obs_t = torch.from_numpy(obs_np).unsqueeze(0)

    def floor_forward() -> int:
        with torch.no_grad():
            return int(fused.q(obs_t).argmax())

    clock = time.perf_counter if args.wall else time.process_time
    rows: dict[str, list[float]] = {}
    ops: list[tuple[str, Callable[[], object], int]] = [
        ("rlcache _learn(1)", lambda: agent._learn(1), args.updates),
        ("rlcache burst of 128, per update (double)", lambda: agent._learn(128),
         max(1, args.updates // 128)),
        ("rlcache burst of 128, per update (plain)", lambda: plain._learn(128),
         max(1, args.updates // 128)),
        ("floor update (hand-written, fused Adam)", fused.update, args.updates),
        ("sb3-style update (default CPU Adam)", foreach_off.update, args.updates),
        ("rlcache select_action(evaluate=True)",
         lambda: agent.select_action(obs_np, evaluate=True), args.forwards),
        ("floor forward (no_grad, argmax)", floor_forward, args.forwards),
    ]
    for _, fn, n in ops:  # warm up (allocator, Adam state)
        for _ in range(min(n, 20)):
            fn()
    for _ in range(args.repeats):
        for name, fn, n in ops:
            ms = per_op_ms(fn, n, clock)
            rows.setdefault(name, []).append(ms / 128 if "burst" in name else ms)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s); "
          f"batch {BATCH}, net {HIDDEN}, Double DQN, Huber, clip 10; best of {args.repeats}; "
          f"{'wall-clock' if args.wall else 'process CPU'} ms per op")
    floor = min(rows["floor update (hand-written, fused Adam)"])
    for name, times in rows.items():
        best = min(times)
        rel = f"{best / floor:5.2f}x floor" if "update" in name else ""
        print(f"  {name:42s} {best:7.3f} ms  (median {np.median(times):.3f})  {rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
