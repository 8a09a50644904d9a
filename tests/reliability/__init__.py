"""Reliability suite: kills, signals, corrupted checkpoints, bad input, full disk.

Shared helpers. The kill machinery lives in ``bench/chaos.py`` (loaded here as
``chaos``) so that the benchmark and the tests run the very same code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location("rlcache_bench_chaos", ROOT / "bench" / "chaos.py")
assert _spec is not None and _spec.loader is not None
chaos = importlib.util.module_from_spec(_spec)
sys.modules["rlcache_bench_chaos"] = chaos
_spec.loader.exec_module(chaos)

_REFERENCE: dict[str, Path] = {}


def reference_run(tmp_path_factory) -> Path:
    """One uninterrupted run of ``chaos.TINY_CONFIG`` per session (a subprocess)."""
    if "run" not in _REFERENCE:
        folder = tmp_path_factory.mktemp("reliability-reference")
        config = chaos.write_config(folder)
        _REFERENCE["config"] = config
        _REFERENCE["run"] = chaos.reference_run(folder, config)[0]
    return _REFERENCE["run"]


def reference_config(tmp_path_factory) -> Path:
    reference_run(tmp_path_factory)
    return _REFERENCE["config"]


def tree_hash(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder``."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_all(cmds: dict[str, list[str]], width: int = 3, timeout: float = 240,
            cwd: Path | None = None) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run several commands, ``width`` at a time (one torch thread each)."""
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    pending = list(cmds.items())
    running: list[tuple[str, list[str], subprocess.Popen[str]]] = []
    while pending or running:
        while pending and len(running) < width:
            name, cmd = pending.pop(0)
            running.append((name, cmd, subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=chaos.child_env(), cwd=cwd)))
        name, cmd, proc = running.pop(0)
        out, err = proc.communicate(timeout=timeout)
        results[name] = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    return results


def assert_one_line_error(returncode: int, stderr: str, stdout: str = "") -> str:
    """Exit 2, exactly one line on stderr (``rlcache: error: ...``), no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert returncode == 2, (returncode, stdout, stderr)
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr + stdout, stderr
    assert lines[0].startswith("rlcache: error: "), lines[0]
    return lines[0]
