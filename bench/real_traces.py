"""A learned policy on real traces (issue 18): train per trace, judge on its second half.

For every trace of ``--traces`` (default: the four of ``../shared/traces``) and training
seed, it trains ``configs/cache_trace.yaml`` on the trace's first half (``rlcache train
--trace FILE --set env.split=train``; the checkpoint is chosen on the last 20% of that
half), then judges it with ``rlcache evaluate -k RUN --split test --cache-size S --json``
at 0.1%, 1% and 10% of the second half's distinct objects, beside LRU, LFU, FIFO, ARC,
LRFU, S3FIFO, SIEVE and Belady (native) and libCacheSim's LeCaR and Cacheus, on exactly
the same requests. Every figure comes from those commands; nothing is typed in.

Results accumulate in ``RUNS/results.json`` (one entry per trace, seed and size), so runs
can be split over sessions; ``docs/REAL_TRACES.md`` and ``docs/real_traces.png`` are
rewritten from all stored entries and mark the cases not measured::

    OMP_NUM_THREADS=1 .venv/bin/python bench/real_traces.py                 # 4 traces, seed 0
    .venv/bin/python bench/real_traces.py --names cloudPhysicsIO --seeds 0 1 2
    .venv/bin/python bench/real_traces.py --load                # judge existing runs only
    .venv/bin/python bench/real_traces.py --report-only         # rewrite the docs

Training time is the trainer's elapsed time (``metrics.json``; the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TRACES = ("cloudPhysicsIO", "cache2k_web12", "arc_oltp", "twitter_c52")
SIZES = (0.001, 0.01, 0.1)
NATIVE = ("LRU", "LFU", "FIFO", "ARC", "LRFU", "S3FIFO", "SIEVE")
LCS = ("LeCaR", "Cacheus")
HEURISTICS = (*NATIVE, *LCS)
NOTES = "<!-- notes: kept when the table is regenerated -->"
PLOTTED = ("LRU", "ARC", "S3FIFO", "SIEVE", "LeCaR", "Cacheus", "agent", "BELADY")


def default_traces() -> Path:
    """``../shared/traces`` from the checkout (or ``$RLCACHE_SHARED_TRACES``)."""
    env = os.environ.get("RLCACHE_SHARED_TRACES")
    for c in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "traces",
                                             ROOT.parents[1] / "shared" / "traces"]:
        if (c / "README.md").exists():
            return c
    return ROOT.parent / "shared" / "traces"


def rlcache(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m rlcache.cli ARGS`` with this checkout's sources; raises on failure."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "rlcache.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"rlcache {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return proc


def trace_file(folder: Path, name: str) -> Path:
    """The oracleGeneral file of trace ``name`` in ``folder``."""
    return folder / f"{name}.oracleGeneral.bin.zst"


def train(run: Path, trace: Path, config: Path, seed: int, sets: list[str]) -> None:
    """Train one agent on the first half of ``trace`` into ``run``."""
    args = ["train", "-c", str(config), "--trace", str(trace), "--set", "env.split=train",
            "--seed", str(seed), "--set", f"rl.seed={seed}", "-o", str(run), "-q"]
    for s in sets:
        args += ["--set", s]
    rlcache(*args)


def training_seconds(run: Path) -> float:
    """The trainer's own elapsed time for ``run`` (metrics.json; start-up excluded)."""
    return float(json.loads((run / "metrics.json").read_text())["elapsed_seconds"])


def judge(run: Path, trace: Path, size: float) -> dict[str, Any]:
    """Hit ratios of the agent and every baseline on the test half at ``size``."""
    out = json.loads(rlcache("evaluate", "-k", str(run), "--split", "test", "--cache-size",
                             str(size), "--json").stdout)
    rows = {k.upper() if k != "agent" else k: v["hit_ratio"] for k, v in out.items()}
    rows.update(libcachesim_rows(trace, size))
    return rows


def libcachesim_rows(trace: Path, size: float) -> dict[str, float]:
    """LeCaR's and Cacheus's hit ratios (libCacheSim) on the test half at ``size``."""
    sys.path.insert(0, str(ROOT / "src"))
    from rlcache.cache.readers import read_trace
    from rlcache.cache.report import libcachesim_table, parse_capacity

    test = read_trace(str(trace)).split(0.5)[1]
    cap = parse_capacity(size, test.n_objects)
    table = libcachesim_table(test, cap, LCS)
    return {name: table[name]["hit_ratio"] for name in LCS} | {"capacity": cap}


def gap(rows: dict[str, float]) -> tuple[str, float, float | None]:
    """(best heuristic, its hit ratio, the agent's share of its gap to Belady)."""
    best = max(HEURISTICS, key=lambda h: rows[h])
    b, bel = rows[best], rows["BELADY"]
    return best, b, (rows["agent"] - b) / (bel - b) if bel > b else None


def load_results(path: Path) -> dict[str, Any]:
    """Stored entries ``{"TRACE|SEED|SIZE": rows, "TRACE|SEED|train_s": s}``."""
    return json.loads(path.read_text()) if path.exists() else {}


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Train (unless ``--load``) and judge every requested trace, seed and size."""
    path = args.runs / "results.json"
    results = load_results(path)
    for name in args.names:
        trace = trace_file(args.traces, name)
        for seed in args.seeds:
            run = args.runs / f"{name}-s{seed}"
            if not args.load:
                if run.exists():
                    raise SystemExit(f"{run} exists: pass --load to judge it, or remove it")
                train(run, trace, args.config, seed, args.set)
            results[f"{name}|{seed}|train_s"] = training_seconds(run)
            for size in args.sizes:
                results[f"{name}|{seed}|{size}"] = judge(run, trace, size)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(results, indent=1))
                print(name, seed, size, gap(results[f"{name}|{seed}|{size}"]), flush=True)
    return results


def case_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One summary per (trace, size): seeds, agent mean/min/max, best heuristic, gap."""
    out = []
    for name in TRACES:
        for size in SIZES:
            runs = [v for k, v in results.items()
                    if k.startswith(f"{name}|") and k.endswith(f"|{size}")]
            if not runs:
                out.append({"trace": name, "size": size, "seeds": 0})
                continue
            agent = [r["agent"] for r in runs]
            best, b, _ = gap(runs[0])
            gaps = [gap(r)[2] for r in runs]
            out.append({"trace": name, "size": size, "seeds": len(runs),
                        "capacity": runs[0]["capacity"], "agent": sum(agent) / len(agent),
                        "lo": min(agent), "hi": max(agent), "best": best, "best_hr": b,
                        "belady": runs[0]["BELADY"], "rows": runs[0],
                        "gap": (sum(g for g in gaps if g is not None) / len(gaps))
                        if all(g is not None for g in gaps) else None})
    return out


def markdown(results: dict[str, Any], command: str) -> str:
    """docs/REAL_TRACES.md from the stored results."""
    cases = case_rows(results)
    lines = ["# A learned policy on real traces (issue 18)", "",
             "![hit ratio per trace, size and policy](real_traces.png)", "",
             "Per-trace recipe `configs/cache_trace.yaml`: trained on each trace's first "
             "half (checkpoint chosen on the last 20% of it), judged on the second half "
             "from an empty cache, cache = 0.1% / 1% / 10% of the second half's distinct "
             "objects. Best heuristic = best of " + ", ".join(HEURISTICS) + " on the same "
             "requests (LeCaR and Cacheus: libCacheSim). Gap share = (agent - best) / "
             "(Belady - best). Unit sizes.", "",
             "| trace | size | cap | seeds | agent (mean [min, max]) | "
             + " | ".join(HEURISTICS) + " | BELADY | best | gap share | >= best |",
             "|" + "---|" * (len(HEURISTICS) + 9)]
    for c in cases:
        if not c["seeds"]:
            lines.append(f"| {c['trace']} | {c['size'] * 100:g}% | | 0 | not measured |"
                         + " |" * (len(HEURISTICS) + 4))
            continue
        r = c["rows"]
        spread = f" [{c['lo']:.4f}, {c['hi']:.4f}]" if c["seeds"] > 1 else ""
        g = "" if c["gap"] is None else f"{100 * c['gap']:+.1f}%"
        lines.append(
            f"| {c['trace']} | {c['size'] * 100:g}% | {c['capacity']} | {c['seeds']} | "
            f"{c['agent']:.4f}{spread} | " + " | ".join(f"{r[h]:.4f}" for h in HEURISTICS)
            + f" | {c['belady']:.4f} | {c['best']} | {g} | "
            f"{'yes' if c['agent'] >= c['best_hr'] else 'no'} |")
    measured = [c for c in cases if c["seeds"] and c["gap"] is not None]
    if measured:
        mean = sum(c["gap"] for c in measured) / len(measured)
        wins = sum(c["agent"] >= c["best_hr"] for c in measured)
        lines += ["", f"Measured cases: {len(measured)} of {len(cases)}; at least the best "
                  f"heuristic on {wins}; mean gap share {100 * mean:+.1f}% (target: every "
                  "case >= best, mean >= 30%)."]
    lines += ["", "Training time per trace (the trainer's elapsed seconds, metrics.json; "
              "2 cores shared with other jobs):", "", "| trace | seeds | seconds (mean) |",
              "|---|---|---|"]
    for name in TRACES:
        ts = [v for k, v in results.items() if k.startswith(f"{name}|")
              and k.endswith("|train_s")]
        lines.append(f"| {name} | {len(ts)} | {sum(ts) / len(ts):.0f} |" if ts
                     else f"| {name} | 0 | not measured |")
    lines += ["", "Regenerate:", "", f"    {command}", ""]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Grouped bars: one panel per trace, one group per size, one bar per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = case_rows(results)
    fig, axes = plt.subplots(1, len(TRACES), figsize=(4.2 * len(TRACES), 3.6))
    width = 0.8 / len(PLOTTED)
    for ax, name in zip(axes, TRACES, strict=True):
        mine = [c for c in cases if c["trace"] == name]
        for i, pol in enumerate(PLOTTED):
            xs = [j + (i - len(PLOTTED) / 2 + 0.5) * width for j in range(len(mine))]
            ys = [(c["agent"] if pol == "agent" else c["rows"][pol]) if c["seeds"] else 0
                  for c in mine]
            ax.bar(xs, ys, width, label=pol, color="black" if pol == "agent" else None)
        ax.set_xticks(range(len(mine)), [f"{c['size'] * 100:g}%" + ("" if c["seeds"] else
                                                               "\n(n/m)") for c in mine])
        ax.set_title(name)
        ax.set_ylabel("hit ratio")
        ax.set_ylim(bottom=0)
    axes[-1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_doc(doc: Path, table: str) -> None:
    """Write ``table`` to ``doc``, keeping the hand-written notes below ``NOTES``."""
    old = doc.read_text() if doc.exists() else ""
    notes = old[old.index(NOTES):] if NOTES in old else ""
    doc.write_text(table + ("\n" + notes if notes else ""))


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run, write the report."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--traces", type=Path, default=default_traces())
    p.add_argument("--names", nargs="+", default=list(TRACES), choices=TRACES)
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--sizes", nargs="+", type=float, default=list(SIZES))
    p.add_argument("--config", type=Path, default=ROOT / "configs" / "cache_trace.yaml")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra training override (repeatable)")
    p.add_argument("--runs", type=Path, default=ROOT / "results" / "real_traces")
    p.add_argument("--load", action="store_true", help="judge existing runs, no training")
    p.add_argument("--report-only", action="store_true", help="only rewrite the docs")
    p.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = p.parse_args(argv)
    results = (load_results(args.runs / "results.json") if args.report_only
               else run_all(args))
    command = ("OMP_NUM_THREADS=1 .venv/bin/python bench/real_traces.py --seeds 0 1 2 "
               "(per trace: --names NAME; judge only: --load; docs only: --report-only)")
    write_doc(args.docs / "REAL_TRACES.md", markdown(results, command))
    plot(results, args.docs / "real_traces.png")


if __name__ == "__main__":
    main()
