"""Small real trace files (one bad) and a loopback Ray cluster for the benchmark tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard

from rlcache.cache import generate, write_oracle_general

BIN = Path(sys.executable).parent
POLICIES = "LRU,FIFO,ARC,S3FIFO,SIEVE,BELADY"
SIZES = "0.01,0.1"


def ray_env(**extra: str) -> dict[str, str]:
    """Environment for Ray processes: loopback only, no usage stats, no auth token."""
    env = dict(os.environ)
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled",
               RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", OMP_NUM_THREADS="1",
               PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    env.update(extra)
    return env


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


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A one-node Ray cluster on 127.0.0.1, stopped by signalling its own process group."""
    port = free_port()
    temp = Path("/tmp") / f"rlc-ray-bench-{os.getpid()}"
    log = tmp_path_factory.mktemp("cluster") / "ray_start.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [str(BIN / "ray"), "start", "--head", "--node-ip-address=127.0.0.1",
             f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
             "--disable-usage-stats", f"--temp-dir={temp}", "--block"],
            env=ray_env(), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)
