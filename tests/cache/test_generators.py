"""Workload generators: determinism, shapes and the property each one promises."""

from __future__ import annotations

import numpy as np
import pytest

from rlcache.cache import WORKLOADS, generate
from rlcache.errors import UserError


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_seeded_and_shaped(name: str) -> None:
    a = generate(name, n_requests=5000, n_objects=500, seed=3)
    b = generate(name, n_requests=5000, n_objects=500, seed=3)
    c = generate(name, n_requests=5000, n_objects=500, seed=4)
    assert len(a) == 5000 and a.ids.dtype == np.int64 and a.name == name
    assert np.array_equal(a.ids, b.ids) and not np.array_equal(a.ids, c.ids)
    assert a.ids.min() >= 0 and a.ids.max() < 500


def test_zipf_popularity_is_skewed() -> None:
    tr = generate("zipf", n_requests=200_000, n_objects=1000, alpha=1.0, seed=0)
    counts = np.sort(np.bincount(tr.ids, minlength=1000))[::-1]
    assert counts[0] / counts[1] == pytest.approx(2.0, rel=0.1)  # Zipf(1): f(1)/f(2) = 2
    flat = generate("zipf", n_requests=200_000, n_objects=1000, alpha=0.0, seed=0)
    assert np.bincount(flat.ids).max() < 2 * 200


def test_loop_is_periodic() -> None:
    tr = generate("loop", n_requests=1000, n_objects=37, seed=1)
    ids = tr.ids
    assert tr.n_objects == 37
    assert np.array_equal(ids[37:], ids[:-37])
    assert len(set(ids[:37].tolist())) == 37


def test_shift_moves_the_popular_set() -> None:
    tr = generate("shift", n_requests=40_000, n_objects=1000, n_phases=2, seed=0)
    top = [np.bincount(part, minlength=1000).argmax() for part in np.split(tr.ids, 2)]
    assert top[0] != top[1]


def test_zipf_scan_contains_sequential_scans() -> None:
    tr = generate("zipf_scan", n_requests=20_000, n_objects=2000, scan_frac=0.5, scan_len=100)
    # scans are runs of 100 distinct objects; count requests inside long distinct runs
    assert tr.n_objects > 1000 and len(tr) == 20_000


def test_phased_and_churn() -> None:
    tr = generate("phased", n_requests=30_000, n_objects=1000, phases=("zipf", "loop"), seed=2)
    second = tr.ids[15_000:]
    assert len(set(second.tolist())) == 100  # loop over a tenth of the objects
    churn = generate("churn", n_requests=50_000, n_objects=100, seed=0)
    assert np.bincount(churn.ids).min() > 300


def test_bad_workload_and_options() -> None:
    with pytest.raises(UserError, match="zipf_scan"):
        generate("nope")
    with pytest.raises(UserError, match="takes no option"):
        generate("churn", alpha=0.5)
    with pytest.raises(UserError):
        generate("zipf", n_requests=0)
    with pytest.raises(UserError):
        generate("phased", phases=("zipf", "tornado"))
