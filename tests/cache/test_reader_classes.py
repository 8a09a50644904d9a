"""Trace-reading classes of issue 13: every request is read, distinct keys stay distinct,
what cannot be read is one error naming file and line; .zst and libCacheSim's CSV layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zstandard

from rlcache.cache import ORACLE_DTYPE, Trace, TraceError, read_trace, write_oracle_general
from tests.shared_traces import shared_traces

BOM = b"\xef\xbb\xbf"


def _err(path, **kw) -> str:
    with pytest.raises(TraceError) as info:
        read_trace(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg, msg
    return msg


def test_bom_is_not_a_request_nor_part_of_a_name(tmp_path) -> None:
    (tmp_path / "n.csv").write_bytes(BOM + b"1\n2\n3\n")
    assert read_trace(tmp_path / "n.csv").ids.tolist() == [1, 2, 3]
    (tmp_path / "h.csv").write_bytes(BOM + b"id,size\n7,1\n8,1\n")
    assert read_trace(tmp_path / "h.csv", id_col="id").ids.tolist() == [7, 8]
    (tmp_path / "k.txt").write_bytes(BOM + b"a\nb\na\n")
    assert read_trace(tmp_path / "k.txt").ids.tolist() == [0, 1, 0]


@pytest.mark.parametrize("keys", [
    [b"a\xff", b"a\xfe", b"a\xfd"],            # not UTF-8: was merged through U+FFFD
    [b"k\x1c", b"k\xc2\x85", b"k\xe2\x80\xa8", b"k"],  # str.strip() would eat these
    [b"\xc3\xa9", b"e\xcc\x81"],                # two spellings of e-acute are two keys
])
def test_distinct_keys_stay_distinct(tmp_path, keys: list[bytes]) -> None:
    data = b"\n".join(keys + keys[::-1]) + b"\n"
    (tmp_path / "k.txt").write_bytes(data)
    tr = read_trace(tmp_path / "k.txt")
    assert len(tr) == 2 * len(keys) and tr.n_objects == len(keys)
    assert tr.ids.tolist() == list(range(len(keys))) + list(range(len(keys)))[::-1]
    (tmp_path / "k.csv").write_bytes(b"key\n" + data)
    tr = read_trace(tmp_path / "k.csv", id_col="key", numeric_ids=False)
    assert tr.n_objects == len(keys) and len(tr) == 2 * len(keys)


@pytest.mark.parametrize("text", ["1_0", "\u0661\u0662", "\u00b2", "0x10", "1e3", "1.0", "--1",
                                  "\u20037"])
def test_ids_are_ascii_integers_only(tmp_path, text: str) -> None:
    (tmp_path / "i.csv").write_text(f"5\n{text}\n10\n", encoding="utf-8")
    msg = _err(tmp_path / "i.csv")
    assert ":2:" in msg and "not an integer" in msg
    # First row too: a bad id is not mistaken for a header (the request is not dropped).
    (tmp_path / "f.csv").write_text(f"{text}\n10\n", encoding="utf-8")
    assert ":1:" in _err(tmp_path / "f.csv")


def test_signs_and_blanks_around_digits_are_integers(tmp_path) -> None:
    (tmp_path / "s.csv").write_text("+5\n -3 \n\t7\n")
    assert read_trace(tmp_path / "s.csv").ids.tolist() == [5, -3, 7]


def test_unreadable_rows_and_columns_name_file_and_line(tmp_path) -> None:
    (tmp_path / "big.csv").write_text("1\n2\n" + "9" * 131_073 + "\n")
    msg = _err(tmp_path / "big.csv")
    assert ":3:" in msg and "field" in msg
    (tmp_path / "q.csv").write_text("1\n2\n")
    for col in (-99, "-99", 5, "\u00b2"):
        msg = _err(tmp_path / "q.csv", id_col=col)
        assert ":1:" in msg or "no header" in msg, msg
    assert "out of range" in _err(tmp_path / "q.csv", id_col=-1)
    assert "out of range" in _err(tmp_path / "q.csv", size_col=3)


def test_cli_bad_columns_are_one_line(tmp_path) -> None:
    (tmp_path / "q.csv").write_text("1\n2\n3\n")
    # A negative index is refused with the flag's name before the file is read; a name
    # or index the file does not have: the error names the file.
    for col, named in (("-99", "--id-col"), ("\u00b2", "q.csv"), ("7", "q.csv")):
        out = subprocess.run([sys.executable, "-m", "rlcache.cli", "baselines", "--trace",
                              str(tmp_path / "q.csv"), "--id-col", col, "--cache-size", "1"],
                             capture_output=True, text=True, timeout=60)
        lines = out.stderr.splitlines()
        assert out.returncode == 2 and len(lines) == 1, out.stderr
        assert lines[0].startswith("rlcache: error: ") and named in lines[0], (col, lines[0])


def test_zst_files_read_as_their_content(tmp_path) -> None:
    tr = Trace(np.array([3, 2**40, 3, 7, 7]), np.array([1, 5, 1, 2, 2]))
    raw = write_oracle_general(tr, tmp_path / "t.oracleGeneral.bin").read_bytes()
    # Two frames and a chunked writer: the reader must read across frames.
    z = zstandard.ZstdCompressor()
    (tmp_path / "t.oracleGeneral.bin.zst").write_bytes(z.compress(raw[:48]) + z.compress(raw[48:]))
    back = read_trace(tmp_path / "t.oracleGeneral.bin.zst")
    assert back.ids.tolist() == tr.ids.tolist() and back.sizes.tolist() == tr.sizes.tolist()
    assert back.name == "t"
    (tmp_path / "c.csv.zst").write_bytes(z.compress(BOM + b"time,id,size\n1,4,9\n2,5,9\n"))
    assert read_trace(tmp_path / "c.csv.zst").ids.tolist() == [4, 5]
    (tmp_path / "k.txt.zst").write_bytes(z.compress(b"a\nb\na\n"))
    assert read_trace(tmp_path / "k.txt.zst").ids.tolist() == [0, 1, 0]


def test_bad_zst_is_one_error(tmp_path) -> None:
    (tmp_path / "x.oracleGeneral.zst").write_bytes(b"not zstd at all")
    assert "zstd" in _err(tmp_path / "x.oracleGeneral.zst")
    rec = np.zeros(2, dtype=ORACLE_DTYPE).tobytes()[:-4]
    (tmp_path / "t.oracleGeneral.zst").write_bytes(zstandard.compress(rec))
    assert "record 2 is truncated" in _err(tmp_path / "t.oracleGeneral.zst")
    (tmp_path / "e.oracleGeneral.zst").write_bytes(zstandard.compress(b""))
    assert "empty" in _err(tmp_path / "e.oracleGeneral.zst")


@pytest.mark.parametrize("header", ["time,id,size", "# time, obj_id, obj_size",
                                    "timestamp,obj_id,obj_size,next_access_vtime"])
def test_libcachesim_csv_layout_reads_the_id_column(tmp_path, header: str) -> None:
    extra = ",-1" if header.count(",") == 3 else ""
    rows = "".join(f"{t},{i},{s}{extra}\n" for t, i, s in [(1, 40, 9), (2, 41, 3), (3, 40, 9)])
    (tmp_path / "l.csv").write_text(header + "\n" + rows)
    tr = read_trace(tmp_path / "l.csv")
    assert tr.ids.tolist() == [40, 41, 40]
    tr = read_trace(tmp_path / "l.csv", size_col=2)
    assert tr.sizes.tolist() == [9, 3, 9]


SHARED = shared_traces()
WEB12 = Path(SHARED or ".") / "cache2k_web12.oracleGeneral.bin.zst"


@pytest.mark.skipif(SHARED is None, reason="shared traces not present")
def test_real_zst_trace_matches_its_readme() -> None:
    tr = read_trace(WEB12)
    assert len(tr) == 95_607 and tr.n_objects == 13_756
