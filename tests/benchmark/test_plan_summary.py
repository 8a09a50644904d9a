"""The benchmark's plan, cells and summary without Ray; its user errors through the CLI."""

from __future__ import annotations

import pytest

from rlcache.benchmark.cells import run_cell
from rlcache.benchmark.plan import Cell, find_traces, make_cells, parse_policies, parse_sizes
from rlcache.benchmark.summary import reductions, summary_md, wins
from rlcache.cache import read_trace, simulate
from rlcache.errors import UserError
from tests.benchmark.conftest import benchmark, ray_env


def test_sizes_and_policies_are_checked() -> None:
    assert parse_sizes("0.001, 0.01,0.01,500") == ["0.001", "0.01", "500"]
    for bad in ("", "0", "1.5", "x", "-0.1"):
        with pytest.raises(UserError, match="--sizes"):
            parse_sizes(bad)
    assert parse_policies("sieve,min") == ["SIEVE", "BELADY", "FIFO", "LRU"]
    with pytest.raises(UserError, match="NOPE"):
        parse_policies("LRU,NOPE")
    with pytest.raises(UserError, match="names no file"):
        parse_policies("policy:")
    assert parse_policies("agent:runs/a")[0].startswith("agent:/")


def test_folders_give_their_trace_files(corpus) -> None:
    found = [p.name for p in find_traces([str(corpus)])]
    assert found == ["broken.oracleGeneral.bin", "phased.csv", "scan.oracleGeneral.bin.zst",
                     "zipf.oracleGeneral.bin"]
    with pytest.raises(UserError, match="no such file"):
        find_traces([str(corpus / "nope.csv")])
    (corpus / "empty_dir").mkdir(exist_ok=True)
    with pytest.raises(UserError, match="no trace files"):
        find_traces([str(corpus / "empty_dir")])


def test_a_cell_is_the_simulator_and_a_bad_file_is_its_own_error(corpus) -> None:
    traces = find_traces([str(corpus)])
    cells = {(c.trace.split("/")[-1], c.policy): c
             for c in make_cells(traces, ["0.1"], ["S3FIFO", "ARC"], "test")}
    row = run_cell(cells[("scan.oracleGeneral.bin.zst", "S3FIFO")])
    _, second = read_trace(corpus / "scan.oracleGeneral.bin.zst").split(0.5)
    cap = int(0.1 * second.n_objects)
    assert row["error"] == "" and row["capacity"] == cap and row["requests"] == len(second)
    assert row["hits"] == simulate(second, "S3FIFO", cap).hits
    assert row["requests_per_s"] > 0
    bad = run_cell(cells[("broken.oracleGeneral.bin", "ARC")])
    assert "record 2 is truncated" in bad["error"] and "\n" not in bad["error"]
    huge = run_cell(Cell(str(corpus / "zipf.oracleGeneral.bin"), "100000", "LRU"))
    assert "must be smaller" in huge["error"]


def _row(trace: str, size: str, policy: str, mr: float) -> dict:
    return {"trace_path": trace, "size": size, "policy": policy, "miss_ratio": mr,
            "error": "", "requests_per_s": 1e6}


def test_reductions_wins_and_summary() -> None:
    rows = [_row("a", "0.1", "FIFO", 0.5), _row("a", "0.1", "LRU", 0.4),
            _row("a", "0.1", "SIEVE", 0.25), _row("a", "0.1", "BELADY", 0.1),
            _row("b", "0.1", "FIFO", 0.2), _row("b", "0.1", "LRU", 0.1),
            _row("b", "0.1", "SIEVE", 0.1), _row("b", "0.1", "BELADY", 0.05),
            {**_row("c", "0.1", "FIFO", 0.0), "error": "c: empty trace"}]
    red = reductions(rows, "FIFO")["0.1"]
    assert red["SIEVE"] == pytest.approx([0.5, 0.5]) and red["LRU"] == pytest.approx([0.2, 0.5])
    assert dict(wins(rows)["0.1"]) == {"FIFO": 0, "SIEVE": 2, "LRU": 1}  # ties count for each
    md = summary_md(rows, ["a", "b", "c"], complete=True)
    assert "| SIEVE | 2 | +50.00% |" in md and "## Failed cells" in md and "c: empty" in md
    assert "Incomplete" in summary_md(rows, ["a", "b", "c"], complete=False)


@pytest.mark.parametrize("args, needle", [
    (["--sizes", "0.001,2.5"], "--sizes"),
    (["--policies", "LRU,NOPE"], "NOPE"),
    (["--policies", "policy:/nonexistent/p.npz"], "no such file"),
    (["--traces", "/nonexistent/t.csv"], "/nonexistent/t.csv"),
])
def test_user_errors_are_one_line_and_create_nothing(corpus, tmp_path, args, needle) -> None:
    out = tmp_path / "out"
    base = {"--traces": str(corpus), "--sizes": "0.1", "--policies": "LRU"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [x for kv in base.items() for x in kv]
    proc = benchmark(*flat, "--output", str(out), env=ray_env(), timeout=60)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("rlcache: error: ") and needle in lines[0]
    assert not out.exists()
