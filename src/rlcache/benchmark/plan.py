"""What a benchmark runs: trace files x cache sizes x policies, checked before Ray starts.

A cell is one (trace, size, policy). Its key hashes the trace's absolute path, byte size and
modification time with the size, the policy and the split, so a finished cell is found again
by an interrupted or repeated benchmark and a changed trace file is judged anew.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from rlcache.cache.readers import infer_format
from rlcache.cache.registry import EVAL_POLICIES, normalize_policy
from rlcache.cache.trace import TraceError
from rlcache.errors import UserError

#: Reference policies every benchmark runs: the summary's reductions are against these.
REFERENCES = ("FIFO", "LRU")
DEFAULT_SIZES = ("0.001", "0.01", "0.1")
SPLITS = ("train", "test")
_SKIP_NAMES = ("readme", "license", "checksums", "sha256sums")


@dataclass(frozen=True)
class Cell:
    """One (trace, cache size, policy) to judge; ``policy`` is a name, policy:FILE or agent:RUN."""

    trace: str
    size: str
    policy: str
    split: str | None = None
    fingerprint: str = ""

    @property
    def key(self) -> str:
        """A file-name-safe id of this cell (stable across runs and machines)."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def _fingerprint(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


def parse_sizes(text: str) -> list[str]:
    """``--sizes``: fractions in (0, 1) of each trace's distinct objects, or object counts."""
    sizes = [s.strip() for s in text.split(",") if s.strip()]
    if not sizes:
        raise UserError("--sizes: expected a comma-separated list such as 0.001,0.01,0.1")
    for s in sizes:
        try:
            value = float(s)
        except ValueError:
            raise UserError(f"--sizes: {s!r} is not a number") from None
        if not (0.0 < value < 1.0 or (value >= 1 and value.is_integer())):
            raise UserError(f"--sizes: {s!r} must be a fraction in (0, 1) or a whole "
                            "number of objects")
    return list(dict.fromkeys(sizes))


def parse_policies(text: str | None) -> list[str]:
    """``--policies``: registered names, ``policy:FILE`` and ``agent:RUN``; FIFO, LRU added."""
    items = [p.strip() for p in (text or ",".join(EVAL_POLICIES)).split(",") if p.strip()]
    if not items:
        raise UserError("--policies: expected a comma-separated list such as LRU,FIFO,S3FIFO")
    out: list[str] = []
    for item in items:
        kind, sep, rest = item.partition(":")
        if sep and kind.lower() in ("policy", "agent"):
            if not rest.strip():
                raise UserError(f"--policies: {item!r} names no file")
            out.append(f"{kind.lower()}:{os.path.abspath(rest.strip())}")
            continue
        try:
            out.append(normalize_policy(item))
        except UserError as exc:
            raise UserError(f"--policies: {exc} (or policy:FILE, agent:RUN)") from None
    missing = [p for p in REFERENCES if p not in out]
    return list(dict.fromkeys(out + missing))


def find_traces(paths: Sequence[str]) -> list[Path]:
    """Each ``--traces`` file, and the trace files under each folder (by their extension)."""
    if not paths:
        raise UserError("--traces: give at least one trace file or folder")
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            inside = sorted(q for q in p.rglob("*") if q.is_file() and _is_trace_name(q))
            if not inside:
                raise UserError(f"--traces: {raw}: no trace files in this folder (csv, txt, "
                                "oracleGeneral, each optionally .zst)")
            found.extend(inside)
        elif p.exists() or p.is_symlink():
            found.append(p)  # a bad file fails its own cells, not the benchmark
        else:
            raise UserError(f"--traces: {raw}: no such file or folder")
    return list(dict.fromkeys(q.absolute() for q in found))


def _is_trace_name(path: Path) -> bool:
    if path.name.startswith(".") or path.name.lower().startswith(_SKIP_NAMES):
        return False
    try:
        infer_format(path)
    except TraceError:
        return False
    return True


def check_split(split: str | None) -> str | None:
    """``--split``: train (first half), test (second half) or None (the whole trace)."""
    if split is not None and split not in SPLITS:
        raise UserError(f"--split: expected train or test, got {split!r}")
    return split


def make_cells(traces: Sequence[Path], sizes: Sequence[str], policies: Sequence[str],
               split: str | None) -> list[Cell]:
    """Every cell, trace-major (so that a worker tends to reuse the trace it has read)."""
    return [Cell(str(t), s, p, split, _fingerprint(t))
            for t in traces for s in sizes for p in policies]


def trace_label(path: str | Path, all_paths: Sequence[str | Path]) -> str:
    """A short name for a trace: its file name up to the first dot, more when names clash."""
    name = Path(path).name.split(".")[0] or Path(path).name
    if sum((Path(q).name.split(".")[0] or Path(q).name) == name for q in all_paths) <= 1:
        return name
    common = os.path.commonpath([str(q) for q in all_paths])
    return os.path.relpath(str(path), common)


def safe_name(text: str) -> str:
    """A string usable in a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"
