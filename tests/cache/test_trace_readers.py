"""Trace, next-access and reader/writer tests, including every bad-input case."""

from __future__ import annotations

import numpy as np
import pytest

from rlcache.cache import (
    NEVER,
    ORACLE_DTYPE,
    Trace,
    TraceError,
    next_access_of,
    read_trace,
    write_oracle_general,
)
from rlcache.errors import UserError


def naive_next_access(ids: list[int]) -> list[int]:
    out = []
    for i, x in enumerate(ids):
        nxt = NEVER
        for j in range(i + 1, len(ids)):
            if ids[j] == x:
                nxt = j
                break
        out.append(nxt)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_next_access_matches_naive(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 7, size=60)
    assert next_access_of(ids).tolist() == naive_next_access(ids.tolist())
    assert Trace(ids).next_access.tolist() == naive_next_access(ids.tolist())


def test_trace_basics_slice_split() -> None:
    tr = Trace(np.array([5, 3, 5, 9, 3, 5]), name="t")
    assert len(tr) == 6 and tr.n_objects == 3
    assert tr.sizes.tolist() == [1] * 6 and tr.ids.dtype == np.int64
    part = tr.slice(1, 4)
    assert part.ids.tolist() == [3, 5, 9]
    assert part.next_access.tolist() == [NEVER] * 3
    a, b = tr.split(0.5)
    assert a.ids.tolist() == [5, 3, 5] and b.ids.tolist() == [9, 3, 5]
    with pytest.raises(UserError):
        tr.split(1.5)


def test_sparse_ids_get_dense_index() -> None:
    tr = Trace(np.array([-(2**62), 7, 2**60, 7]))
    assert tr.n_objects == 3 and tr.index_size == 3
    assert sorted(set(tr.object_index.tolist())) == [0, 1, 2]
    assert tr.object_id(tr.object_index[2]) == 2**60


def test_oracle_general_round_trip_and_fields(tmp_path) -> None:
    tr = Trace(np.array([0, 4, 0, 2**40, 4]), np.array([1, 2, 1, 3, 2]))
    path = write_oracle_general(tr, tmp_path / "t.oracleGeneral")
    rec = np.fromfile(path, dtype=ORACLE_DTYPE)
    assert rec["next"].tolist() == [2, 4, NEVER, NEVER, NEVER]
    assert rec["time"].tolist() == [0, 1, 2, 3, 4]
    back = read_trace(path)
    assert back.ids.tolist() == tr.ids.tolist() and back.sizes.tolist() == [1, 2, 1, 3, 2]


def test_csv_by_index_and_name_with_and_without_header(tmp_path) -> None:
    (tmp_path / "a.csv").write_text("time,key,bytes\n1,10,5\n2,11,6\n3,10,5\n")
    tr = read_trace(tmp_path / "a.csv", id_col="key", size_col="bytes")
    assert tr.ids.tolist() == [10, 11, 10] and tr.sizes.tolist() == [5, 6, 5]
    tr = read_trace(tmp_path / "a.csv", id_col=1)  # header detected
    assert tr.ids.tolist() == [10, 11, 10]
    (tmp_path / "b.csv").write_text("1;10\n2;11\n")
    tr = read_trace(tmp_path / "b.csv", id_col=1, delimiter=";", header=False)
    assert tr.ids.tolist() == [10, 11]
    (tmp_path / "c.csv").write_text("k\nab\ncd\nab\n")
    tr = read_trace(tmp_path / "c.csv", id_col="k", numeric_ids=False)
    assert tr.ids.tolist() == [0, 1, 0]


def test_txt_maps_string_keys(tmp_path) -> None:
    (tmp_path / "k.txt").write_text("alpha\nbeta\n\nalpha\n42\n")
    tr = read_trace(tmp_path / "k.txt")
    assert tr.ids.tolist() == [0, 1, 0, 2]


def _err(path, **kw) -> str:
    with pytest.raises(TraceError) as info:
        read_trace(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    assert isinstance(info.value, UserError)
    return msg


def test_bad_inputs_name_file_and_line(tmp_path) -> None:
    assert "not found" in _err(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    assert "empty" in _err(tmp_path / "empty.csv")
    (tmp_path / "hdr.csv").write_text("id\n")
    assert "empty" in _err(tmp_path / "hdr.csv", id_col="id")
    (tmp_path / "bad.csv").write_text("1,2\n3,4\nx7,5\n")
    msg = _err(tmp_path / "bad.csv", header=False)
    assert ":3:" in msg and "x7" in msg and "not an integer" in msg
    (tmp_path / "size.csv").write_text("id,size\n1,2\n3,big\n")
    msg = _err(tmp_path / "size.csv", id_col="id", size_col="size")
    assert ":3:" in msg and "size" in msg
    (tmp_path / "short.csv").write_text("1,2\n3\n")
    assert ":2:" in _err(tmp_path / "short.csv", size_col=1)
    (tmp_path / "nohdr.csv").write_text("a,b\n1,2\n")
    assert "no size column" in _err(tmp_path / "nohdr.csv", id_col="a", size_col="zz")
    (tmp_path / "empty.txt").write_text("\n\n")
    assert "empty" in _err(tmp_path / "empty.txt")
    (tmp_path / "t.oracleGeneral").write_bytes(b"\0" * 50)
    msg = _err(tmp_path / "t.oracleGeneral")
    assert "record 3" in msg and "24" in msg
    (tmp_path / "z.oracleGeneral").write_bytes(b"")
    assert "empty" in _err(tmp_path / "z.oracleGeneral")
    (tmp_path / "t.parquet").write_text("x")
    assert "format" in _err(tmp_path / "t.parquet")
    assert "unknown trace format" in _err(tmp_path / "bad.csv", format="xml")
    assert "do not apply" in _err(tmp_path / "k.txt", format="txt", id_col=3)
