"""Exact agreement with libCacheSim (PyPI ``libcachesim``) on generated oracleGeneral traces."""

from __future__ import annotations

import pytest

from rlcache.cache import generate, libcachesim_table, read_trace, simulate, write_oracle_general
from tests.shared_traces import shared_traces

lcs = pytest.importorskip("libcachesim")

LCS_NAMES = {"LRU": "LRU", "FIFO": "FIFO", "LFU": "LFU", "BELADY": "Belady", "ARC": "ARC",
             "S3FIFO": "S3FIFO", "SIEVE": "Sieve"}


def _lcs_hits(path: str, policy: str, cap: int, n: int) -> int:
    reader = lcs.TraceReader(path, lcs.TraceType.ORACLE_GENERAL_TRACE)
    miss_ratio, _ = getattr(lcs, LCS_NAMES[policy])(cap).process_trace(reader)
    return round((1.0 - miss_ratio) * n)


@pytest.fixture(scope="module", params=[("zipf", 0), ("zipf_scan", 1), ("phased", 2)])
def trace_file(request, tmp_path_factory):
    workload, seed = request.param
    tr = generate(workload, n_requests=50_000, n_objects=5_000, seed=seed)
    path = tmp_path_factory.mktemp("lcs") / f"{workload}.oracleGeneral"
    write_oracle_general(tr, path)
    return tr, str(path)


@pytest.mark.parametrize("policy", ["LRU", "FIFO", "LFU", "BELADY"])
def test_exact_hit_counts(trace_file, policy: str) -> None:
    tr, path = trace_file
    for cap in (10, 50, 500, 2500):
        assert simulate(tr, policy, cap).hits == _lcs_hits(path, policy, cap, len(tr)), cap


def test_arc_within_half_a_percent(trace_file) -> None:
    tr, path = trace_file
    for cap in (10, 50, 500, 2500):
        ours = simulate(tr, "ARC", cap).hit_ratio
        theirs = _lcs_hits(path, "ARC", cap, len(tr)) / len(tr)
        assert abs(ours - theirs) <= 0.005, (cap, ours, theirs)


def test_libcachesim_table_runs_extra_policies() -> None:
    tr = generate("zipf", n_requests=5_000, n_objects=500, seed=0)
    table = libcachesim_table(tr, 50, ["S3FIFO", "LRU"])
    assert table["LRU"]["hits"] == simulate(tr, "LRU", 50).hits
    assert 0.0 < table["S3FIFO"]["hit_ratio"] < 1.0


@pytest.mark.parametrize("policy", ["S3FIFO", "SIEVE"])
def test_s3fifo_sieve_exact_hit_counts(trace_file, policy: str) -> None:
    tr, path = trace_file
    # libCacheSim's S3FIFO needs a small FIFO larger than one object (20 objects and up).
    caps = (20, 23, 50, 137, 500, 2500) if policy == "S3FIFO" else (1, 2, 7, 50, 500, 2500)
    for cap in caps:
        assert simulate(tr, policy, cap).hits == _lcs_hits(path, policy, cap, len(tr)), cap


def test_s3fifo_below_libcachesims_range_is_sane() -> None:
    tr = generate("zipf", n_requests=5_000, n_objects=500, seed=3)
    for cap in range(1, 20):
        hits = simulate(tr, "S3FIFO", cap).hits
        assert 0 < hits <= simulate(tr, "BELADY", cap).hits, cap


SHARED = shared_traces()


@pytest.mark.skipif(SHARED is None, reason="shared traces not present")
@pytest.mark.parametrize("policy", ["S3FIFO", "SIEVE"])
def test_s3fifo_sieve_on_a_real_trace(tmp_path, policy: str) -> None:
    """cache2k_web12's second half at 1% and 10% (the shared README's 0.3430 .. 0.6796)."""
    _, test = read_trace(SHARED / "cache2k_web12.oracleGeneral.bin.zst").split(0.5)
    path = str(write_oracle_general(test, tmp_path / "web12.oracleGeneral", unit_size=True))
    for frac in (0.01, 0.1):
        cap = int(frac * test.n_objects)
        assert simulate(test, policy, cap).hits == _lcs_hits(path, policy, cap, len(test))
