"""A benchmark's reports: results.csv, summary.md and two plots.

The miss-ratio reduction of policy P against a reference R on one trace and size is
``(mr_R - mr_P) / mr_R`` (the S3-FIFO and SIEVE papers' measure; positive = fewer misses).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rlcache.benchmark.plan import trace_label

COLUMNS = ("trace", "requests", "objects", "size", "capacity", "policy", "hits", "hit_ratio",
           "miss_ratio", "seconds", "requests_per_s", "split", "error")
PERCENTILES = (10, 25, 50, 75, 90)
#: The offline optimum is shown but never counted as "best" (no online policy can be it).
ORACLES = ("BELADY",)
_HEATMAP_TRACES = 60


def _atomic_write(path: Path, data: str | bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)


def results_csv(rows: Sequence[dict[str, Any]], paths: Sequence[str]) -> str:
    """One line per cell, in plan order."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "trace": trace_label(row["trace_path"], paths)})
    return buf.getvalue()


def reductions(rows: Sequence[dict[str, Any]], ref: str) -> dict[str, dict[str, list[float]]]:
    """``{size: {policy: [reduction vs ref per trace]}}`` over the cells without errors."""
    mr: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for r in rows:
        if not r.get("error"):
            mr[(r["size"], r["trace_path"])][r["policy"]] = float(r["miss_ratio"])
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (size, _), by_policy in mr.items():
        base = by_policy.get(ref)
        if base is None or base <= 0:
            continue
        for policy, value in by_policy.items():
            if policy != ref:
                out[size][policy].append((base - value) / base)
    return out


def wins(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """``{size: {policy: traces where it has the lowest miss ratio (ties count for each)}}``."""
    mr: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for r in rows:
        if not r.get("error") and r["policy"] not in ORACLES:
            mr[(r["size"], r["trace_path"])][r["policy"]] = float(r["miss_ratio"])
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (size, _), by_policy in mr.items():
        best = min(by_policy.values())
        for policy, value in by_policy.items():
            out[size][policy] += int(math.isclose(value, best, abs_tol=1e-12))
    return out


def _pct(x: float) -> str:
    return f"{100 * x:+.2f}%"


def _table(red: dict[str, list[float]], policies: Sequence[str]) -> list[str]:
    head = "| policy | traces | mean | " + " | ".join(f"P{p}" for p in PERCENTILES) + " |"
    lines = [head, "|" + "---|" * (3 + len(PERCENTILES))]
    for policy in policies:
        vals = red.get(policy)
        if not vals:
            continue
        qs = np.percentile(vals, PERCENTILES)
        lines.append(f"| {policy} | {len(vals)} | {_pct(float(np.mean(vals)))} | "
                     + " | ".join(_pct(float(q)) for q in qs) + " |")
    return lines


def summary_md(rows: Sequence[dict[str, Any]], paths: Sequence[str], complete: bool) -> str:
    """The markdown summary: per size, reductions vs FIFO and LRU and how often each wins."""
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    traces = sorted({r["trace_path"] for r in rows})
    lines = ["# Benchmark summary", ""]
    if not complete:
        lines += ["**Incomplete**: some cells have not finished; rerun the same command to "
                  "compute them (finished cells are kept).", ""]
    good = [r for r in rows if not r.get("error")]
    rate = [float(r["requests_per_s"]) for r in good
            if r.get("requests_per_s") and not str(r["policy"]).startswith(("policy:", "agent:"))]
    lines += [f"{len(traces)} traces x {len(sizes)} sizes x {len(policies)} policies: "
              f"{len(rows)} cells, {len(rows) - len(good)} failed."]
    if rate:
        lines += [f"Median per-cell replay rate of the native policies: "
                  f"{np.median(rate) / 1e6:.2f} M requests/s."]
    lines += ["", "Miss-ratio reduction = (miss ratio of the reference - the policy's) / the "
              "reference's, per trace; higher is better. Belady is the offline optimum and "
              "is not counted among the best.", ""]
    wins_by = wins(rows)
    for ref in ("FIFO", "LRU"):
        red = reductions(rows, ref)
        for size in sizes:
            lines += [f"## Size {size}: miss-ratio reduction vs {ref}", ""]
            lines += [*_table(red.get(size, {}), policies), ""]
    lines += ["## How often each policy is best (lowest miss ratio, ties count for each)", ""]
    online = [p for p in policies if p not in ORACLES]
    lines += ["| size | " + " | ".join(online) + " |", "|" + "---|" * (1 + len(online))]
    for size in sizes:
        lines.append(f"| {size} | " + " | ".join(str(wins_by.get(size, {}).get(p, 0))
                                               for p in online) + " |")
    failed = [r for r in rows if r.get("error")]
    if failed:
        lines += ["", "## Failed cells", "", "| trace | size | policy | reason |",
                  "|---|---|---|---|"]
        for r in failed:
            reason = str(r["error"]).replace("|", "\\|")
            lines.append(f"| {trace_label(r['trace_path'], paths)} | {r['size']} | "
                         f"{r['policy']} | {reason} |")
    return "\n".join(lines) + "\n"


def _short(policy: str) -> str:
    kind, sep, rest = policy.partition(":")
    return f"{kind}:{Path(rest).name}" if sep else policy


def plot_reductions(rows: Sequence[dict[str, Any]], path: Path) -> bool:
    """Per size, a box plot across traces of each policy's miss-ratio reduction vs FIFO."""
    red = reductions(rows, "FIFO")
    sizes = [s for s in dict.fromkeys(r["size"] for r in rows) if red.get(s)]
    if not sizes:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sizes), figsize=(4.5 * len(sizes), 4.2), squeeze=False)
    for ax, size in zip(axes[0], sizes, strict=True):
        names = list(red[size])
        ax.boxplot([np.array(red[size][n]) * 100 for n in names], showmeans=True)
        ax.set_xticks(range(1, len(names) + 1), [_short(n) for n in names], rotation=45,
                      ha="right")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"cache = {size} of objects")
        ax.set_ylabel("miss-ratio reduction vs FIFO (%)")
    _save_png(fig, path)
    return True


def plot_heatmap(rows: Sequence[dict[str, Any]], paths: Sequence[str], path: Path) -> bool:
    """A trace x policy heat map of the reduction vs FIFO, one panel per size."""
    red_rows = [r for r in rows if not r.get("error")]
    sizes = list(dict.fromkeys(r["size"] for r in red_rows))
    traces = sorted({r["trace_path"] for r in red_rows})[:_HEATMAP_TRACES]
    policies = [p for p in dict.fromkeys(r["policy"] for r in red_rows) if p != "FIFO"]
    if not sizes or not traces or not policies:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mr = {(r["size"], r["trace_path"], r["policy"]): float(r["miss_ratio"]) for r in red_rows}
    fig, axes = plt.subplots(1, len(sizes), squeeze=False,
                             figsize=(1.2 + 0.7 * len(policies) * len(sizes),
                                      1.5 + 0.3 * len(traces)))
    for ax, size in zip(axes[0], sizes, strict=True):
        grid = np.full((len(traces), len(policies)), np.nan)
        for i, t in enumerate(traces):
            base = mr.get((size, t, "FIFO"))
            for j, p in enumerate(policies):
                v = mr.get((size, t, p))
                if base and v is not None:
                    grid[i, j] = 100 * (base - v) / base
        lim = max(1e-9, float(np.nanmax(np.abs(grid)))) if np.isfinite(grid).any() else 1.0
        im = ax.imshow(grid, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_xticks(range(len(policies)), [_short(p) for p in policies], rotation=45,
                      ha="right")
        ax.set_yticks(range(len(traces)), [trace_label(t, paths) for t in traces], fontsize=7)
        ax.set_title(f"{size}: reduction vs FIFO (%)")
        fig.colorbar(im, ax=ax, shrink=0.8)
    _save_png(fig, path)
    return True


def _save_png(fig: Any, path: Path) -> None:
    """Lay out, render and atomically write ``fig`` as a PNG, then free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    _atomic_write(path, buf.getvalue())


def write_reports(out: Path, rows: Sequence[dict[str, Any]], paths: Sequence[str],
                  complete: bool) -> None:
    """Write results.csv, summary.md, reduction_vs_fifo.png and heatmap.png into ``out``."""
    _atomic_write(out / "results.csv", results_csv(rows, paths))
    _atomic_write(out / "summary.md", summary_md(rows, paths, complete))
    plot_reductions(rows, out / "reduction_vs_fifo.png")
    plot_heatmap(rows, paths, out / "heatmap.png")
