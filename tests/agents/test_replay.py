"""Replay buffer: wraparound, sampling only filled slots, exact round trip."""

from __future__ import annotations

import numpy as np
import pytest

from rlcache.agents import ReplayBuffer


def fill(buf: ReplayBuffer, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        buf.add(np.full(buf.obs_dim, i), i % 3, float(i), np.full(buf.obs_dim, i + 1), i % 2 == 0)


def test_wraparound_overwrites_oldest() -> None:
    buf = ReplayBuffer(5, 2)
    fill(buf, 7)
    assert len(buf) == 5 and buf.pos == 2
    assert sorted(buf.rewards.tolist()) == [2.0, 3.0, 4.0, 5.0, 6.0]
    assert buf.obs[0].tolist() == [5.0, 5.0] and buf.obs[1].tolist() == [6.0, 6.0]


def test_samples_only_filled_slots() -> None:
    buf = ReplayBuffer(100, 3)
    fill(buf, 7)
    idx = buf.sample_indices(np.random.default_rng(0), 1000)
    assert idx.min() >= 0 and idx.max() < 7
    obs, _, rewards, next_obs, _ = buf.get(idx)
    np.testing.assert_array_equal(obs[:, 0], rewards)
    np.testing.assert_array_equal(next_obs[:, 0], rewards + 1)


@pytest.mark.parametrize("n", [0, 3, 10, 13])
def test_round_trip(n: int) -> None:
    buf = ReplayBuffer(10, 4)
    fill(buf, n)
    other = ReplayBuffer(10, 4)
    fill(other, 9, start=100)  # stale contents must be replaced
    other.load_state_dict(buf.state_dict())
    assert (other.pos, other.size) == (buf.pos, buf.size)
    for name in ("obs", "next_obs", "actions", "rewards", "dones"):
        np.testing.assert_array_equal(getattr(other, name), getattr(buf, name))


def test_mismatched_shape_rejected() -> None:
    with pytest.raises(ValueError, match="mismatch"):
        ReplayBuffer(10, 4).load_state_dict(ReplayBuffer(10, 5).state_dict())
