"""rlcache benchmark on real Ray: local (the default) and a loopback cluster, with a real
SIGKILL of a worker mid-cell and an interrupted benchmark that resumes."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlcache.cache import read_trace, simulate
from tests.benchmark.conftest import POLICIES, SIZES, benchmark, ray_env

pytest.importorskip("ray")

VOLATILE = ("seconds", "requests_per_s")


def rows_of(out: Path) -> list[dict[str, str]]:
    """results.csv without the timing columns."""
    with (out / "results.csv").open() as fh:
        return [{k: v for k, v in r.items() if k not in VOLATILE} for r in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def local_run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One uninterrupted benchmark on local Ray: the reference for the other runs."""
    out = tmp_path_factory.mktemp("local") / "bench"
    proc = benchmark("--traces", str(corpus), "--sizes", SIZES, "--policies", POLICIES,
                     "--output", str(out), "--num-cpus", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stderr + proc.stdout


def test_local_ray_judges_every_cell(corpus: Path, local_run: tuple[Path, str]) -> None:
    out, log = local_run
    rows = rows_of(out)
    assert len(rows) == 4 * 2 * 6 and "48/48 cells" in log and "ETA" in log
    for r in rows:
        if r["trace"] == "broken":
            assert "record 2 is truncated" in r["error"] and r["hits"] == ""
            continue
        path = next(corpus.glob(r["trace"] + ".*"))
        trace = read_trace(path)
        assert int(r["capacity"]) == int(float(r["size"]) * trace.n_objects)
        assert int(r["hits"]) == simulate(trace, r["policy"], int(r["capacity"])).hits, r
    md = (out / "summary.md").read_text()
    assert "## Size 0.01: miss-ratio reduction vs FIFO" in md and "vs LRU" in md
    assert "## Failed cells" in md and "broken" in md
    for png in ("reduction_vs_fifo.png", "heatmap.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def test_interrupted_benchmark_resumes_without_recomputing(
        corpus: Path, local_run: tuple[Path, str], cluster: str, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    args = ["--traces", str(corpus), "--sizes", SIZES, "--policies", POLICIES,
            "--output", str(out), "--address", cluster, "-q"]
    first = benchmark(*args, env=ray_env(RLCACHE_BENCHMARK_INTERRUPT_AFTER="5"))
    assert first.returncode == 130, first.stderr[-3000:]
    finished = {p.stem for p in (out / "cells").glob("*.json")}
    assert len(finished) == 5
    log = tmp_path / "cells.log"
    second = benchmark(*args, env=ray_env(RLCACHE_TEST_CELL_LOG=str(log)))
    assert second.returncode == 0, second.stderr[-3000:]
    started = [line.split()[1] for line in log.read_text().splitlines()]
    assert len(started) == 48 - 5 and not finished & set(started)
    assert "43 computed now, 5 reused" in second.stdout
    assert rows_of(out) == rows_of(local_run[0])


def _wait_for(path: Path, needle: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text().splitlines():
                if needle in line:
                    return line
        time.sleep(0.2)
    raise AssertionError(f"no {needle!r} in {path}")


@pytest.mark.slow  # ~45 s; SIGTERM and resume of the benchmark stay in the default run
def test_worker_killed_mid_cell_reruns_it(
        corpus: Path, local_run: tuple[Path, str], cluster: str, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    log = tmp_path / "cells.log"
    env = ray_env(RLCACHE_TEST_SLOW_CELL="SIEVE=6", RLCACHE_TEST_CELL_LOG=str(log))
    cmd = [sys.executable, "-m", "rlcache.cli", "benchmark", "--traces", str(corpus),
           "--sizes", SIZES, "--policies", POLICIES, "--output", str(out),
           "--address", cluster, "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    victim = int(_wait_for(log, " SIEVE", 120).split()[0])
    os.kill(victim, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr[-3000:]
    lines = [line.split() for line in log.read_text().splitlines()]
    sieve = [(pid, key) for pid, key, policy in lines if policy == "SIEVE"]
    killed_key = next(key for pid, key in sieve if int(pid) == victim)
    reruns = [pid for pid, key in sieve if key == killed_key]
    assert len(reruns) == 2 and int(reruns[1]) != victim
    assert rows_of(out) == rows_of(local_run[0])


def test_sigterm_keeps_finished_cells_and_exits_143(
        corpus: Path, cluster: str, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    log = tmp_path / "cells.log"
    env = ray_env(RLCACHE_TEST_SLOW_CELL="SIEVE=60", RLCACHE_TEST_CELL_LOG=str(log))
    cmd = [sys.executable, "-m", "rlcache.cli", "benchmark", "--traces",
           str(corpus / "zipf.oracleGeneral.bin"), "--sizes", "0.1", "--policies", "SIEVE",
           "--output", str(out), "--address", cluster, "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _wait_for(log, " SIEVE", 120)
    deadline = time.monotonic() + 60
    while len(list((out / "cells").glob("*.json"))) < 2:  # FIFO and LRU are quick
        assert time.monotonic() < deadline
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)  # not the 60 s the slow cell sleeps
    assert proc.returncode == 143, stderr[-2000:]
    assert "interrupted after 2/3 cells" in stderr
    assert "Incomplete" in (out / "summary.md").read_text()
    assert len(rows_of(out)) == 2
