"""Trace readers (CSV, plain text, libCacheSim oracleGeneral binary; each also .zst) and a writer.

Every malformed input raises ``TraceError`` (a ``UserError``) with one line naming the
file, the line or record, and what was expected.
"""

from __future__ import annotations

import csv
import inspect
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

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
_COMPRESSED = (".zst", ".zstd")

#: Header names taken as the id column when no id column is given (libCacheSim's CSV
#: layout is ``time,id,size,...``; other tools write obj_id or key).
ID_NAMES = ("id", "obj_id", "obj-id", "object_id", "objid", "key")

# Python's int() also takes '1_0', '١٢' and '\u2003 7'; a trace id is ASCII digits only,
# so that each text names one number and distinct texts never merge silently.
_INT_TEXT = re.compile(r"[ \t]*[+-]?[0-9]+[ \t]*")
_INT_CHARS = frozenset("0123456789+- \t")
# Keys are stripped of ASCII blanks only: str.strip() would also eat \x1c, \x85, \u2028...
_BLANKS = " \t\r\n"
_CHUNK = ORACLE_DTYPE.itemsize * (1 << 16)


def _is_compressed(path: str | os.PathLike[str]) -> bool:
    return Path(path).name.lower().endswith(_COMPRESSED)


def infer_format(path: str | os.PathLike[str]) -> str:
    """The trace format implied by ``path``'s extension (a ``.zst`` suffix is looked through)."""
    name = Path(path).name.lower()
    for ext in _COMPRESSED:
        name = name.removesuffix(ext)
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


def _trace_name(p: Path, stem: bool = True) -> str:
    name = p.name
    for ext in _COMPRESSED:
        name = name.removesuffix(ext)
    return (Path(name).stem if stem else name.split(".")[0]) or p.name


@contextmanager
def _open_binary(p: Path) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed on the fly for ``.zst`` (never whole in memory)."""
    raw = p.open("rb")
    if not _is_compressed(p):
        with raw:
            yield raw
        return
    import zstandard

    stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    try:
        with io.BufferedReader(stream) as fh:  # type: ignore[arg-type]
            yield fh
    except zstandard.ZstdError as exc:
        raise TraceError(f"{p}: not a readable zstd file ({exc})") from None
    finally:
        raw.close()


@contextmanager
def _open_text(p: Path) -> Iterator[TextIO]:
    """Text lines; a UTF-8 BOM is dropped and bytes that are not UTF-8 are kept distinct."""
    with _open_binary(p) as raw:
        # surrogateescape maps each undecodable byte to its own code point, so keys that
        # differ only in such bytes stay different (errors="replace" merged them).
        yield io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


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


_SHARED: dict[tuple[object, ...], Trace] = {}
_SHARED_MAX = 4


def read_trace_shared(path: str | os.PathLike[str], format: str | None = None,
                      **opts: object) -> Trace:
    """:func:`read_trace`, once per process for one file and options; read-only arrays.

    The train and evaluation envs of a run (and a sweep worker's trials) then share one
    read, and one next-access array. A file changed since (its mtime or size) is read
    again. The Trace is frozen (:meth:`Trace.freeze`): whoever shares it cannot change it.
    """
    try:
        resolved = Path(path).resolve()
        stat = resolved.stat()
        key = (str(resolved), stat.st_mtime_ns, stat.st_size, format,
               tuple(sorted((k, repr(v)) for k, v in opts.items())))
    except (OSError, RuntimeError, ValueError):
        return read_trace(path, format, **opts)  # it says what is wrong with the path
    trace = _SHARED.get(key)
    if trace is None:
        trace = read_trace(path, format, **opts).freeze()
        while len(_SHARED) >= _SHARED_MAX:
            _SHARED.pop(next(iter(_SHARED)))
        _SHARED[key] = trace
    return trace


def _is_index(col: object) -> bool:
    return isinstance(col, int) or (
        isinstance(col, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", col) is not None
    )


def _column_index(col: int | str, header: list[str] | None, first: list[str], path: Path,
                  what: str) -> int:
    names = None if header is None else [_header_name(h) for h in header]
    if _is_index(col) and (names is None or str(col).strip() not in names):
        idx = int(col)
        if not 0 <= idx < len(first):
            raise TraceError(
                f"{path}:1: {what} column {idx} is out of range; columns are 0-based and the "
                f"first row has {len(first)} (0 to {len(first) - 1})"
            )
        return idx
    if names is None:
        raise TraceError(f"{path}: {what} column {col!r} is a name but the file has no header")
    if str(col).strip() not in names:
        raise TraceError(f"{path}:1: no {what} column {col!r} in header {names}")
    return names.index(str(col).strip())


def _header_name(text: str) -> str:
    return text.strip(_BLANKS).lstrip("#").strip(_BLANKS)


def _looks_like_name(text: str) -> bool:
    # A header cell starts with a letter (or '#', '_'); '1_0' or '' is a bad id, not a name.
    return re.fullmatch(r"[ \t]*#?[ \t]*[A-Za-z_][^\x00-\x1f]*", text) is not None


def _looks_numeric(text: str) -> bool:
    return _INT_TEXT.fullmatch(text) is not None


def _to_int64(values: list[str], lines: list[int], path: Path, what: str) -> np.ndarray:
    if not values:
        return np.zeros(0, np.int64)
    if _INT_CHARS.issuperset("".join(values)):
        try:
            return np.array(values, dtype=np.int64)
        except (ValueError, OverflowError):
            pass
    for value, line in zip(values, lines, strict=True):
        if not _looks_numeric(value):
            raise TraceError(
                f"{path}:{line}: {what} {value.strip(_BLANKS)!r} is not an integer "
                "(ASCII digits with an optional sign)"
            )
        v = int(value)
        if not -(2**63) <= v < 2**63:
            raise TraceError(f"{path}:{line}: {what} {v} does not fit in 64 bits")
    raise TraceError(f"{path}: cannot read {what} column as integers")  # pragma: no cover


def _csv_rows(p: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with the line each starts on; a row csv cannot parse is a TraceError."""
    rows: list[tuple[int, list[str]]] = []
    with _open_text(p) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        line = 1
        try:
            for row in reader:
                if row:
                    rows.append((line, row))
                line = reader.line_num + 1
        except csv.Error as exc:
            where = reader.line_num or line
            raise TraceError(f"{p}:{where}: cannot read the CSV row: {exc}") from None
    return rows


def read_csv(
    path: str | os.PathLike[str],
    id_col: int | str | None = None,
    size_col: int | str | None = None,
    header: bool | None = None,
    delimiter: str = ",",
    numeric_ids: bool = True,
) -> Trace:
    """Read a CSV trace; columns by 0-based index or header name; header auto-detected.

    Without ``id_col`` the id is the header column named one of ``ID_NAMES`` (libCacheSim's
    ``time,id,size`` layout) or else column 0.
    """
    p = _check_file(path)
    if p.name.lower().removesuffix(".zst").endswith(".tsv") and delimiter == ",":
        delimiter = "\t"
    rows = _csv_rows(p, delimiter)
    if not rows:
        raise TraceError(f"{path}: empty trace, expected at least one request")
    first = rows[0][1]
    named = [i for i, h in enumerate(first) if _header_name(h).lower() in ID_NAMES]
    if header is None:
        by_name = isinstance(id_col, str) and not _is_index(id_col)
        idx0 = int(id_col) if _is_index(id_col) else (0 if id_col is None else None)
        header = by_name or (id_col is None and bool(named)) or (
            numeric_ids
            and idx0 is not None
            and 0 <= idx0 < len(first)
            and _looks_like_name(first[idx0])
        )
    names = first if header else None
    if header:
        rows = rows[1:]
    if not rows:
        raise TraceError(f"{path}: empty trace, only a header line")
    if id_col is None:
        id_col = named[0] if header and named else 0
    ic = _column_index(id_col, names, first, p, "id")
    sc = None if size_col is None else _column_index(size_col, names, first, p, "size")
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
        ids = _dense_keys([s.strip(_BLANKS) for s in id_text])
    sizes = None
    if sc is not None:
        sizes = _to_int64([row[sc] for _, row in rows], lines, p, "size")
        bad = np.flatnonzero(sizes <= 0)
        if bad.size:
            k = int(bad[0])
            raise TraceError(f"{path}:{lines[k]}: size {sizes[k]} is not a positive integer")
    return Trace(ids, sizes, name=_trace_name(p))


def _dense_keys(keys: list[str]) -> np.ndarray:
    mapping: dict[str, int] = {}
    get = mapping.setdefault
    return np.fromiter((get(k, len(mapping)) for k in keys), dtype=np.int64, count=len(keys))


def read_txt(path: str | os.PathLike[str]) -> Trace:
    """Read a plain-text trace, one key per line (blank lines skipped); keys map to dense ids."""
    p = _check_file(path)
    with _open_text(p) as fh:
        keys = [k for k in (line.strip(_BLANKS) for line in fh) if k]
    if not keys:
        raise TraceError(f"{path}: empty trace, expected one key per line")
    return Trace(_dense_keys(keys), name=_trace_name(p))


def read_oracle_general(path: str | os.PathLike[str]) -> Trace:
    """Read libCacheSim's oracleGeneral binary trace (24-byte little-endian records, or .zst)."""
    p = _check_file(path)
    ids: list[np.ndarray] = []
    sizes: list[np.ndarray] = []
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    kept = 0
    total = 0
    with _open_binary(p) as fh:
        while True:
            got = fh.readinto(view[kept:])
            if not got:
                break
            kept += got
            total += got
            full = kept - kept % ORACLE_DTYPE.itemsize
            if full:
                rec = np.frombuffer(buf, dtype=ORACLE_DTYPE, count=full // ORACLE_DTYPE.itemsize)
                ids.append(rec["id"].view(np.int64).copy())
                sizes.append(rec["size"].astype(np.int64))
                buf[: kept - full] = buf[full:kept]
                kept -= full
    if total == 0:
        raise TraceError(f"{path}: empty trace, expected 24-byte oracleGeneral records")
    if kept:
        raise TraceError(
            f"{path}: record {total // ORACLE_DTYPE.itemsize + 1} is truncated ({kept} of 24 "
            f"bytes); the data size {total} is not a multiple of 24, expected oracleGeneral records"
        )
    return Trace(np.concatenate(ids), np.concatenate(sizes), name=_trace_name(p, False))


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
