"""Small real trace files (one bad) and a loopback Ray cluster for the benchmark tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from rlcache.cache import generate, write_oracle_general
from tests.ray_cluster import cluster_fixture
from tests.ray_cluster import ray_env as cluster_env

BIN = Path(sys.executable).parent
POLICIES = "LRU,FIFO,ARC,S3FIFO,SIEVE,BELADY"
SIZES = "0.01,0.1"


def ray_env(**extra: str) -> dict[str, str]:
    """``tests.ray_cluster.ray_env`` with matplotlib's Agg backend (the reports plot)."""
    return cluster_env(**{"MPLBACKEND": "Agg", **extra})


def benchmark(*args: str, env: dict[str, str] | None = None,
              timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``rlcache benchmark ARGS`` as a real subprocess."""
    return subprocess.run([sys.executable, "-m", "rlcache.cli", "benchmark", *args],
                          env=env or ray_env(), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three good traces (oracleGeneral, the same zstd-compressed, CSV) and one bad file."""
    folder = tmp_path_factory.mktemp("corpus")
    a = generate("zipf", 6_000, 800, seed=1)
    write_oracle_general(a, folder / "zipf.oracleGeneral.bin")
    b = generate("zipf_scan", 5_000, 600, seed=2)
    raw = write_oracle_general(b, folder / "scan.tmp").read_bytes()
    (folder / "scan.tmp").unlink()
    (folder / "scan.oracleGeneral.bin.zst").write_bytes(zstandard.compress(raw))
    c = generate("phased", 4_000, 500, seed=3)
    rows = "".join(f"{i},{x},1\n" for i, x in enumerate(c.ids.tolist()))
    (folder / "phased.csv").write_text("time,id,size\n" + rows)
    (folder / "broken.oracleGeneral.bin").write_bytes(b"\0" * 30)
    (folder / "README.md").write_text("not a trace\n")
    return folder


cluster = cluster_fixture("rlc-ray-bench", ray_env)
