"""A one-node loopback Ray cluster (``ray start --head --block``) for the cluster tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent


def ray_env(**extra: str) -> dict[str, str]:
    """Environment for Ray processes: loopback only, no usage stats, no auth token."""
    env = dict(os.environ)
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled",
               RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", OMP_NUM_THREADS="1",
               PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def loopback_cluster(log_dir: Path, temp: Path, env: dict[str, str]) -> Iterator[str]:
    """Start the head on 127.0.0.1 with 2 CPUs; yield its address; stop it afterwards.

    Stopped by signalling its own process group, not ``ray stop``, which would stop every
    Ray on the machine.
    """
    port = free_port()
    log = log_dir / "ray_start.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [str(BIN / "ray"), "start", "--head", "--node-ip-address=127.0.0.1",
             f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
             "--disable-usage-stats", f"--temp-dir={temp}", "--block"],
            env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
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
            os.killpg(proc.pid, signal.SIGKILL)  # helpers that outlived `ray start`
        shutil.rmtree(temp, ignore_errors=True)


def cluster_fixture(tag: str, env: Callable[[], dict[str, str]] = ray_env) -> Any:
    """A module-scoped ``cluster`` fixture: a loopback cluster's address (Ray's temp
    folder ``/tmp/TAG-PID``, its processes given ``env()``), stopped after the module."""

    @pytest.fixture(scope="module")
    def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        """A one-node Ray cluster on 127.0.0.1, stopped by signalling its process group."""
        with loopback_cluster(tmp_path_factory.mktemp("cluster"),
                              Path("/tmp") / f"{tag}-{os.getpid()}", env()) as address:
            yield address

    return cluster
