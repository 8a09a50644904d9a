"""Trace readers (CSV, plain text, libCacheSim oracleGeneral binary) and an oracleGeneral writer.

Every malformed input raises ``TraceError`` (a ``UserError``) with one line naming the
file, the line or record, and what was expected.
"""

from __future__ import annotations

import csv
import inspect
import os
from pathlib import Path

import numpy as np

from rlcache.cache.trace import Trace, TraceError

FORMATS: tuple[str, ...] = ("csv", "txt", "oracleGeneral")

#: One oracleGeneral record: u32 time, u64 id, u32 size, i64 next-access virtual time.
ORACLE_DTYPE = np.dtype(
    [("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next", "<i8")], align=False
)
assert ORACLE_DTYPE.itemsize == 24

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "txt",
    ".oraclegeneral": "oracleGeneral",
    ".bin": "oracleGeneral",
}


def infer_format(path: str | os.PathLike[str]) -> str:
    """The trace format implied by ``path``'s extension (``.zst`` is not supported)."""
    name = Path(path).name.lower()
    for ext, fmt in _EXTENSIONS.items():
        if name.endswith(ext):
            return fmt
    if "oraclegeneral" in name:
        return "oracleGeneral"
    raise TraceError(
        f"{path}: cannot tell the trace format from the file name; "
        f"pass a format, one of {', '.join(FORMATS)}"
    )


def _canonical_format(fmt: str, path: str | os.PathLike[str]) -> str:
    for known in FORMATS:
        if fmt.lower() == known.lower():
            return known
    raise TraceError(f"{path}: unknown trace format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _check_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise TraceError(f"{path}: trace file not found")
    if not p.is_file():
        raise TraceError(f"{path}: not a regular file")
    return p


def read_trace(path: str | os.PathLike[str], format: str | None = None, **opts: object) -> Trace:
    """Read a trace file; ``format`` is csv, txt or oracleGeneral (default: from extension)."""
    fmt = infer_format(path) if format is None else _canonical_format(format, path)
    reader = {"csv": read_csv, "txt": read_txt, "oracleGeneral": read_oracle_general}[fmt]
    try:
        inspect.signature(reader).bind(path, **opts)
    except TypeError:
        accepted = [n for n in inspect.signature(reader).parameters if n != "path"]
        raise TraceError(
            f"{path}: options {sorted(opts)} do not apply to {fmt} traces"
            f" (accepted: {', '.join(accepted) or 'none'})"
        ) from None
    return reader(path, **opts)  # type: ignore[operator]


def _column_index(col: int | str, header: list[str] | None, path: Path, what: str) -> int:
    if isinstance(col, int):
        return col
    if (
        isinstance(col, str)
        and col.strip().lstrip("-").isdigit()
        and (header is None or col not in header)
    ):
        return int(col)
    if header is None:
        raise TraceError(f"{path}: {what} column {col!r} is a name but the file has no header")
    names = [h.strip() for h in header]
    if col not in names:
        raise TraceError(f"{path}:1: no {what} column {col!r} in header {names}")
    return names.index(col)


def _looks_numeric(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _to_int64(values: list[str], lines: list[int], path: Path, what: str) -> np.ndarray:
    try:
        return np.array(values, dtype=np.int64) if values else np.zeros(0, np.int64)
    except (ValueError, OverflowError):
        pass
    for value, line in zip(values, lines, strict=True):
        try:
            v = int(value)
        except ValueError:
            raise TraceError(f"{path}:{line}: {what} {value.strip()!r} is not an integer") from None
        if not -(2**63) <= v < 2**63:
            raise TraceError(f"{path}:{line}: {what} {v} does not fit in 64 bits") from None
    raise TraceError(f"{path}: cannot read {what} column as integers")  # pragma: no cover


def read_csv(
    path: str | os.PathLike[str],
    id_col: int | str = 0,
    size_col: int | str | None = None,
    header: bool | None = None,
    delimiter: str = ",",
    numeric_ids: bool = True,
) -> Trace:
    """Read a CSV trace; columns by 0-based index or header name; header auto-detected."""
    p = _check_file(path)
    if p.suffix.lower() == ".tsv" and delimiter == ",":
        delimiter = "\t"
    with p.open(newline="", encoding="utf-8", errors="replace") as fh:
        rows = [(i, row) for i, row in enumerate(csv.reader(fh, delimiter=delimiter), 1) if row]
    if not rows:
        raise TraceError(f"{path}: empty trace, expected at least one request")
    first = rows[0][1]
    if header is None:
        by_name = isinstance(id_col, str) and not id_col.strip().lstrip("-").isdigit()
        idx0 = id_col if isinstance(id_col, int) else None
        header = by_name or (
            numeric_ids
            and idx0 is not None
            and idx0 < len(first)
            and not _looks_numeric(first[idx0].strip())
        )
    names = first if header else None
    if header:
        rows = rows[1:]
    if not rows:
        raise TraceError(f"{path}: empty trace, only a header line")
    ic = _column_index(id_col, names, p, "id")
    sc = None if size_col is None else _column_index(size_col, names, p, "size")
    need = max(ic, -1 if sc is None else sc)
    lines = [line for line, _ in rows]
    for line, row in rows:
        if len(row) <= need:
            raise TraceError(
                f"{path}:{line}: expected at least {need + 1} columns, found {len(row)}"
            )
    id_text = [row[ic] for _, row in rows]
    if numeric_ids:
        ids = _to_int64(id_text, lines, p, "id")
    else:
        ids = _dense_keys([s.strip() for s in id_text])
    sizes = None
    if sc is not None:
        sizes = _to_int64([row[sc] for _, row in rows], lines, p, "size")
        bad = np.flatnonzero(sizes <= 0)
        if bad.size:
            k = int(bad[0])
            raise TraceError(f"{path}:{lines[k]}: size {sizes[k]} is not a positive integer")
    return Trace(ids, sizes, name=p.stem)


def _dense_keys(keys: list[str]) -> np.ndarray:
    mapping: dict[str, int] = {}
    get = mapping.setdefault
    return np.fromiter((get(k, len(mapping)) for k in keys), dtype=np.int64, count=len(keys))


def read_txt(path: str | os.PathLike[str]) -> Trace:
    """Read a plain-text trace, one key per line (blank lines skipped); keys map to dense ids."""
    p = _check_file(path)
    with p.open(encoding="utf-8", errors="replace") as fh:
        keys = [line.strip() for line in fh]
    keys = [k for k in keys if k]
    if not keys:
        raise TraceError(f"{path}: empty trace, expected one key per line")
    return Trace(_dense_keys(keys), name=p.stem)


def read_oracle_general(path: str | os.PathLike[str]) -> Trace:
    """Read libCacheSim's oracleGeneral binary trace (24-byte little-endian records)."""
    p = _check_file(path)
    nbytes = p.stat().st_size
    if nbytes == 0:
        raise TraceError(f"{path}: empty trace, expected 24-byte oracleGeneral records")
    full, rest = divmod(nbytes, ORACLE_DTYPE.itemsize)
    if rest:
        raise TraceError(
            f"{path}: record {full + 1} is truncated ({rest} of 24 bytes); the file size "
            f"{nbytes} is not a multiple of 24, expected oracleGeneral records"
        )
    rec = np.fromfile(p, dtype=ORACLE_DTYPE)
    ids = rec["id"].view(np.int64).copy()
    sizes = rec["size"].astype(np.int64)
    return Trace(ids, sizes, name=p.name.split(".")[0])


def oracle_records(trace: Trace, unit_size: bool = False) -> np.ndarray:
    """The trace as oracleGeneral records (next access = index of the next request)."""
    n = len(trace)
    rec = np.zeros(n, dtype=ORACLE_DTYPE)
    rec["time"] = np.arange(n, dtype=np.uint64).astype(np.uint32)
    rec["id"] = trace.ids.view(np.uint64)
    rec["size"] = 1 if unit_size else trace.sizes.astype(np.uint32)
    # libCacheSim reads this field as the virtual time (request index) of the object's next
    # request and treats INT64_MAX (or -1) as "never again"; its Belady compares these
    # absolute times, so a relative distance would silently give wrong answers.
    rec["next"] = trace.next_access
    return rec


def write_oracle_general(
    trace: Trace, path: str | os.PathLike[str], unit_size: bool = False
) -> Path:
    """Write ``trace`` as an oracleGeneral binary file that libCacheSim's Belady can use."""
    p = Path(path)
    oracle_records(trace, unit_size=unit_size).tofile(p)
    return p
