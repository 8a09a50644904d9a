"""Exact agreement with libCacheSim (PyPI ``libcachesim``) on generated oracleGeneral traces."""

from __future__ import annotations

import pytest

from rlcache.cache import generate, libcachesim_table, simulate, write_oracle_general

lcs = pytest.importorskip("libcachesim")

LCS_NAMES = {"LRU": "LRU", "FIFO": "FIFO", "LFU": "LFU", "BELADY": "Belady", "ARC": "ARC"}


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
