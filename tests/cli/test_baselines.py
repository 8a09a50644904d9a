"""``rlcache baselines``: the table, --json, libCacheSim rows and every bad input of issue 5."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rlcache.cache import POLICIES, generate, libcachesim_available, simulate, write_oracle_general
from rlcache.cli import main

ZIPF = ["--workload", "zipf", "--requests", "20000", "--objects", "2000"]


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the command in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, ["baselines", *args], prog_name="rlcache",
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> str:
    """Exit 2, one ``rlcache: error:`` line on stderr naming ``needles``, no traceback."""
    lines = err.splitlines()
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("rlcache: error: "), err
    assert "Traceback" not in err + out
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def test_table_lists_policies_and_gap_shares() -> None:
    code, out, _ = invoke(*ZIPF, "--cache-size", "0.1")
    assert code == 0
    lines = out.splitlines()
    assert "20000 requests" in lines[0] and "cache 1" in lines[0]
    names = [line.split()[0] for line in lines[2:]]
    assert names == list(POLICIES)
    rows = {line.split()[0]: line for line in lines[2:]}
    assert rows["LRU"].endswith("0.0%") and rows["BELADY"].endswith("100.0%")


def test_json_matches_simulate_and_shape() -> None:
    code, out, _ = invoke(*ZIPF, "--cache-size", "150", "--policies", "lru,ARC,min", "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["LRU", "ARC", "BELADY"]
    trace = generate("zipf", 20000, 2000, seed=0)
    for name, row in data.items():
        assert set(row) == {"hits", "requests", "hit_ratio", "miss_ratio"}
        assert row["hits"] == simulate(trace, name, 150).hits
        assert row["requests"] == 20000
        assert row["hit_ratio"] + row["miss_ratio"] == pytest.approx(1.0)


def test_loop_mru_equals_belady_and_alpha_seed_apply() -> None:
    code, out, _ = invoke("--workload", "loop", "--requests", "6000", "--objects", "120",
                          "--cache-size", "100", "--policies", "LRU,MRU,BELADY", "--json")
    data = json.loads(out)
    assert code == 0 and data["LRU"]["hits"] == 0
    assert data["MRU"]["hits"] == data["BELADY"]["hits"] > 0
    a = json.loads(invoke(*ZIPF, "--cache-size", "0.1", "--policies", "LRU", "--json")[1])
    b = json.loads(invoke(*ZIPF, "--cache-size", "0.1", "--policies", "LRU", "--json",
                          "--alpha", "1.2")[1])
    c = json.loads(invoke(*ZIPF, "--cache-size", "0.1", "--policies", "LRU", "--json",
                          "--seed", "5")[1])
    assert b["LRU"]["hit_ratio"] > a["LRU"]["hit_ratio"] and c != a


def test_trace_files_in_each_format(tmp_path: Path) -> None:
    trace = generate("zipf", 3000, 300, seed=1)
    ids = trace.ids.tolist()
    (tmp_path / "t.csv").write_text("size,key\n" + "".join(f"1,{x}\n" for x in ids))
    (tmp_path / "t.txt").write_text("".join(f"key{x}\n" for x in ids))
    write_oracle_general(trace, tmp_path / "t.oracleGeneral")
    want = simulate(trace, "LRU", 30).hits
    for name, fmt in (("t.csv", "csv"), ("t.txt", "txt"), ("t.oracleGeneral", None)):
        args = ["--trace", str(tmp_path / name), "--cache-size", "30", "--policies", "LRU",
                "--json"] + (["--format", fmt] if fmt else [])
        if fmt == "csv":
            args += ["--id-col", "key", "--size-col", "0"]
        code, out, err = invoke(*args)
        assert code == 0, err
        assert json.loads(out)["LRU"]["hits"] == want


@pytest.mark.skipif(not libcachesim_available(), reason="libcachesim not installed")
def test_engine_libcachesim_adds_its_policies() -> None:
    code, out, err = invoke(*ZIPF, "--cache-size", "0.1", "--engine", "libcachesim", "--json",
                            "--policies", "LRU,BELADY,S3FIFO,Cacheus")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["LRU", "BELADY", "S3FIFO", "Cacheus"]
    assert data["LRU"]["hit_ratio"] < data["S3FIFO"]["hit_ratio"] < data["BELADY"]["hit_ratio"]
    code, out, _ = invoke(*ZIPF, "--cache-size", "0.1", "--engine", "libcachesim")
    assert code == 0 and "S3FIFO" in out and "LIRS" in out and "ARC" in out


def _bad_files(tmp: Path) -> dict[str, Path]:
    (tmp / "empty.csv").write_text("")
    (tmp / "empty.txt").write_text("\n\n")
    (tmp / "badid.csv").write_text("id,size\n1,1\n2,1\nabc,1\n")
    (tmp / "badsize.csv").write_text("1,1\n2,x\n")
    rec = np.zeros(3, dtype=[("t", "<u4"), ("id", "<u8"), ("s", "<u4"), ("n", "<i8")])
    (tmp / "trunc.oracleGeneral").write_bytes(rec.tobytes()[:-5])
    (tmp / "t.weird").write_text("1\n2\n")
    return {p.name: p for p in tmp.iterdir()}


BAD_CASES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "missing_file": (["--trace", "{tmp}/nope.csv", "--cache-size", "2"], ("nope.csv",)),
    "empty_csv": (["--trace", "{tmp}/empty.csv", "--cache-size", "2"], ("empty.csv",)),
    "empty_txt": (["--trace", "{tmp}/empty.txt", "--cache-size", "2"], ("empty.txt",)),
    "csv_bad_id": (["--trace", "{tmp}/badid.csv", "--cache-size", "1"],
                   ("badid.csv:4",)),
    "csv_bad_size": (["--trace", "{tmp}/badsize.csv", "--size-col", "1", "--cache-size", "1"],
                     ("badsize.csv:2",)),
    "truncated_binary": (["--trace", "{tmp}/trunc.oracleGeneral", "--cache-size", "1"],
                         ("trunc.oracleGeneral",)),
    "unknown_extension": (["--trace", "{tmp}/t.weird", "--cache-size", "1"], ("t.weird",)),
    "unknown_format": (["--trace", "{tmp}/t.weird", "--format", "parquet", "--cache-size", "1"],
                       ("--format",)),
    "unknown_workload": (["--workload", "zipff", "--cache-size", "0.1"], ("zipff",)),
    "capacity_zero": ([*ZIPF, "--cache-size", "0"], ("--cache-size", "'0'")),
    "capacity_too_big": ([*ZIPF, "--cache-size", "2000"], ("--cache-size", "distinct")),
    "capacity_word": ([*ZIPF, "--cache-size", "big"], ("--cache-size", "'big'")),
    "no_source": (["--cache-size", "0.1"], ("--trace", "--workload")),
    "both_sources": (["--trace", "{tmp}/t.weird", *ZIPF, "--cache-size", "1"], ("--trace",)),
    "unknown_policy": ([*ZIPF, "--cache-size", "0.1", "--policies", "LRU,NOPE"], ("NOPE",)),
    "alpha_for_loop": (["--workload", "loop", "--alpha", "1", "--cache-size", "0.5"],
                       ("--alpha",)),
    "zero_requests": (["--workload", "zipf", "--requests", "0", "--cache-size", "0.1"],
                      ("--requests",)),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_line_exit_2(case: str, tmp_path: Path) -> None:
    _bad_files(tmp_path)
    args, needles = BAD_CASES[case]
    code, out, err = invoke(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_one_line_error(code, out, err, *needles)


def test_real_subprocess_error_and_success(tmp_path: Path) -> None:
    _bad_files(tmp_path)
    cmd = [sys.executable, "-m", "rlcache.cli", "baselines"]
    bad = subprocess.run([*cmd, "--trace", str(tmp_path / "badid.csv"), "--cache-size", "1"],
                         capture_output=True, text=True, timeout=60)
    line = assert_one_line_error(bad.returncode, bad.stdout, bad.stderr, "badid.csv:4")
    assert bad.stdout == "" and "abc" in line
    good = subprocess.run([*cmd, *ZIPF, "--cache-size", "0.1", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and set(json.loads(good.stdout)) == set(POLICIES)
    helped = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "Examples:" in helped.stdout
