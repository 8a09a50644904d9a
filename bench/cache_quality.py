"""Quality of learned eviction policies on unseen traces (issue 6).

For every family (zipf, zipf_scan, shift, loop, churn, phased) it trains an agent from
``configs/cache_<family>.yaml`` through the real builders and Trainer (what
``rlcache train`` does), plus one agent from ``configs/cache_mixed.yaml`` trained on all
families, then judges each on UNSEEN traces (another seed) at 1% and 10% of the distinct
objects, beside LRU, LFU, FIFO, ARC, Belady and libCacheSim's S3FIFO and Cacheus.

Writes ``results.md``, ``results.json`` and ``quality.png`` (grouped bars: hit ratio per
family and policy) into ``--out`` (default ``results/quality``)::

    .venv/bin/python bench/cache_quality.py                       # everything (~13 min)
    .venv/bin/python bench/cache_quality.py --families zipf,loop --caps 10% --no-mixed
    .venv/bin/python bench/cache_quality.py --load results/quality/runs  # no training

Evaluation traces: ``--objects`` distinct objects (default 10,000) and ``--requests``
requests (default 200,000), seed ``--seed`` (default 1; training traces use seed 0 and
other sizes). The capacity is 1% / 10% of the objects; the loop family is a loop 1.2x the
cache and churn is uniform over 2x the cache (so their capacities in objects match the
others'); phased is zipf -> loop (1.5x cache) -> scan -> loop -> zipf.

``--heldout`` judges the mixed agent (trained or ``--load``-ed) on workloads no config
trains on (other Zipf skews, heavier scans, faster shifts, a longer loop, another phase
order with churn): a check that the policy generalizes beyond its generators' settings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("zipf", "zipf_scan", "shift", "loop", "churn", "phased")
CAPS = {"1%": 0.01, "10%": 0.1}
CLASSIC = ("LRU", "LFU", "FIFO", "ARC")
BASELINES = ("LRU", "LFU", "FIFO", "ARC", "LRFU", "BELADY")
REFERENCE = ("LRFU",)  # shown beside the classic four, not part of "best classic"
LCS = ("S3FIFO", "Cacheus")
PHASES = ["zipf", "loop", "scan", "loop", "zipf"]


def eval_env(family: str, frac: float, n_objects: int, requests: int, seed: int) -> dict:
    """Env overrides that generate the evaluation trace of ``family`` at ``frac``."""
    cap = max(1, int(frac * n_objects))
    env: dict[str, Any] = {"mix": None, "requests": requests, "seed": seed,
                           "workload": family, "workload_kwargs": {}, "cache_size": cap,
                           "objects": n_objects}
    if family == "loop":
        env["objects"] = round(1.2 * cap)
    elif family == "churn":
        env["objects"] = 2 * cap
    elif family == "phased":
        env["workload_kwargs"] = {"phases": PHASES, "loop_len": round(1.5 * cap)}
    return env


#: Held-out workloads never used for training: name -> (family, env overrides at a
#: capacity of ``cap`` objects), judged like the rest.
HELDOUT: dict[str, tuple[str, Callable[[int], dict[str, Any]]]] = {
    "zipf a=0.7": ("zipf", lambda cap: {"alpha": 0.7}),
    "zipf a=1.2": ("zipf", lambda cap: {"alpha": 1.2}),
    "scan 40%": ("zipf_scan", lambda cap: {"workload_kwargs": {"scan_frac": 0.4}}),
    "shift x10": ("shift", lambda cap: {"workload_kwargs": {"n_phases": 10}}),
    "loop 2x": ("loop", lambda cap: {"objects": 2 * cap}),
    "phased 2": ("phased", lambda cap: {"workload_kwargs": {
        "phases": ["loop", "zipf", "churn", "scan", "zipf"], "loop_len": round(1.2 * cap)}}),
}


def heldout_env(name: str, frac: float, n_objects: int, requests: int, seed: int) -> dict:
    """Env overrides of held-out workload ``name`` at ``frac`` (see ``HELDOUT``)."""
    family, extra = HELDOUT[name]
    env = eval_env(family, frac, n_objects, requests, seed)
    return {**env, **extra(env["cache_size"])}


def train_agent(config_path: Path, out: Path, sets: list[str]) -> tuple[Path, float]:
    """Train through builders + Trainer; returns (run folder, seconds)."""
    from rlcache import builders
    from rlcache.config import load_run_config

    run_config = load_run_config(config_path, sets)
    run_config.training.verbose = False
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    trainer = builders.build_trainer(run_config, out)
    trainer.train()
    return out, time.perf_counter() - t0


def load_agent(run: Path) -> tuple[Any, dict]:
    """The agent of a run folder's newest intact checkpoint and its env section."""
    from rlcache import builders, runs

    loaded = runs.load_checkpoint(run)
    run_config = runs.checkpoint_run_config(loaded)
    env = builders.build_env(run_config)
    agent = builders.build_agent(run_config, env)
    agent.load_state_dict(loaded.payload["agent"])
    return agent, dict(run_config.env_kwargs)


def evaluate(agent: Any, env_kwargs: dict, family: str, frac: float, args: argparse.Namespace,
             cache: dict) -> dict:
    """Agent + baselines + libCacheSim rows on the unseen trace of (family, frac)."""
    from rlcache.cache.report import libcachesim_available, libcachesim_table
    from rlcache.envs.cache_env import CacheEnvConfig
    from rlcache.envs.trace_replay import evaluate_on_trace

    make = heldout_env if family in HELDOUT else eval_env
    kw = {**env_kwargs, **make(family, frac, args.objects, args.requests, args.seed)}
    kw.pop("name", None)
    config = CacheEnvConfig.from_kwargs(**kw)
    key = (family, frac)
    if key not in cache:
        trace = config.load_trace()
        rows = {}
        if libcachesim_available():
            rows = libcachesim_table(trace, config.capacity_for(trace), LCS)
        cache[key] = (trace, rows)
    trace, lcs_rows = cache[key]
    t0 = time.perf_counter()
    table = evaluate_on_trace(lambda obs: agent.select_action(obs, evaluate=True), config,
                              trace=trace, policies=BASELINES)
    table.update(lcs_rows)
    best = max(table[p]["hit_ratio"] for p in CLASSIC)
    bel = table["BELADY"]["hit_ratio"]
    agent_hr = table["agent"]["hit_ratio"]
    return {"capacity": config.capacity_for(trace), "requests": len(trace),
            "hit_ratio": {k: v["hit_ratio"] for k, v in table.items()},
            "best_classic": best,
            "gap_share": (agent_hr - best) / (bel - best) if bel - best > 1e-9 else None,
            "eval_seconds": time.perf_counter() - t0}


def fmt_share(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def heldout_lines(results: dict) -> list[str]:
    """The held-out table (mixed agent on workloads no config trains on), if measured."""
    rows = results.get("heldout_eval") or {}
    if not rows:
        return []
    cols = [*CLASSIC, *REFERENCE, *LCS, "BELADY"]
    lines = ["", "Held-out workloads (never trained on), mixed agent:", "",
             "| workload | cap | mixed | " + " | ".join(cols) + " | best classic | gap share |",
             "|" + "---|" * (len(cols) + 5)]
    for name in HELDOUT:
        for cap_name, r in rows.get(name, {}).items():
            hr = r["hit_ratio"]
            cells = [f"{hr['agent']:.4f}", *(f"{hr[p]:.4f}" if p in hr else "-" for p in cols)]
            lines.append(f"| {name} | {cap_name} | " + " | ".join(cells) +
                         f" | {r['best_classic']:.4f} | {fmt_share(r['gap_share'])} |")
    return lines


def write_report(results: dict, out: Path, args: argparse.Namespace) -> None:
    """results.json, results.md and quality.png."""
    (out / "results.json").write_text(json.dumps(results, indent=1))
    cols = ["agent", "mixed", *CLASSIC, *REFERENCE, *LCS, "BELADY"]
    lines = ["| family | cap | " + " | ".join(c if c != "agent" else "agent (family)"
                                              for c in cols) +
             " | best classic | gap share (family) | gap share (mixed) | target |",
             "|" + "---|" * (len(cols) + 6)]
    shares: dict[str, list[float]] = {"agent": [], "mixed": []}
    for fam in results["families"]:
        for cap_name in results["caps"]:
            r = results["eval"].get(fam, {}).get(cap_name)
            if r is None:
                continue
            hr = r["hit_ratio"]
            m = results.get("mixed_eval", {}).get(fam, {}).get(cap_name)
            cells = [f"{hr['agent']:.4f}", f"{m['hit_ratio']['agent']:.4f}" if m else "-"]
            cells += [f"{hr[p]:.4f}" if p in hr else "-"
                      for p in (*CLASSIC, *REFERENCE, *LCS, "BELADY")]
            gs, gm = r["gap_share"], (m["gap_share"] if m else None)
            for name, g in (("agent", gs), ("mixed", gm)):
                if g is not None:
                    shares[name].append(g)
            best = r["best_classic"]
            if fam == "churn":
                ok = hr["agent"] >= best - 0.005
                target = ">= best - 0.5pt"
            elif fam in ("loop", "phased"):
                ok = gs is not None and gs >= 0.6
                target = ">= 60% gap"
            else:
                ok = hr["agent"] >= best
                target = ">= best"
            lines.append(f"| {fam} | {cap_name} | " + " | ".join(cells) +
                         f" | {best:.4f} | {fmt_share(gs)} | {fmt_share(gm)} | "
                         f"{'met' if ok else 'MISSED'} ({target}) |")
    lines.append("")
    for name, vals in shares.items():
        if vals:
            lines.append(f"Mean gap share (best classic -> Belady), "
                         f"{ {'agent': 'per-family'}.get(name, name)} agents: "
                         f"{100 * float(np.mean(vals)):.1f}% over {len(vals)} cases "
                         "(target >= 20%).")
    lines += heldout_lines(results)
    lines.append("")
    lines.append("| agent | training seconds |")
    lines.append("|---|---|")
    for fam, sec in results.get("train_seconds", {}).items():
        lines.append(f"| {fam} | {sec:.0f} |")
    lines.append("")
    lines.append(f"Evaluation traces: {args.requests} requests, {args.objects} objects "
                 f"(loop: 1.2x cache, churn: 2x cache), seed {args.seed}; training used "
                 "seed 0 traces. Regenerate: `" + results["command"] + "`")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    plot(results, out / "quality.png")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pols = ["agent", "mixed", *CLASSIC, *REFERENCE, *LCS, "BELADY"]
    groups = [(f, c) for f in results["families"] for c in results["caps"]
              if c in results["eval"].get(f, {})]
    if not groups:
        return
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(groups)), 4.2))
    width = 0.8 / len(pols)
    colors = plt.get_cmap("tab10")
    for j, p in enumerate(pols):
        vals = []
        for f, c in groups:
            if p == "mixed":
                m = results.get("mixed_eval", {}).get(f, {}).get(c)
                vals.append(m["hit_ratio"]["agent"] if m else np.nan)
            else:
                vals.append(results["eval"][f][c]["hit_ratio"].get(p, np.nan))
        x = np.arange(len(groups)) + (j - len(pols) / 2 + 0.5) * width
        ax.bar(x, vals, width, label={"agent": "DQN (family)", "mixed": "DQN (mixed)",
                                      "BELADY": "Belady"}.get(p, p), color=colors(j))
    ax.set_xticks(np.arange(len(groups)))
    ax.set_xticklabels([f"{f}\n{c}" for f, c in groups], fontsize=8)
    ax.set_ylabel("hit ratio (unseen trace)")
    ax.set_ylim(0, 1)
    ax.legend(ncol=5, fontsize=7, loc="upper right")
    ax.set_title("Learned eviction vs classic policies, unseen traces")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def merge(args: argparse.Namespace, argv: list[str] | None) -> int:
    """One report from several partial results.json (families in the canonical order)."""
    merged: dict[str, Any] = {"eval": {}, "mixed_eval": {}, "heldout_eval": {},
                              "train_seconds": {}}
    commands = []
    for path in args.merge.split(","):
        part = json.loads(Path(path).read_text())
        # a merged report ("parts") holds both tables; only a lone --only-mixed run copies
        # its mixed rows into "eval"
        only_mixed = "parts" not in part and "--only-mixed" in part.get("command", "")
        for key in ("mixed_eval", "heldout_eval") if only_mixed else \
                ("eval", "mixed_eval", "heldout_eval"):
            for fam, rows in part.get(key, {}).items():
                merged[key].setdefault(fam, {}).update(rows)
        merged["train_seconds"].update(part.get("train_seconds", {}))
        commands.append(part.get("command", ""))
    merged["families"] = [f for f in FAMILIES if f in merged["eval"]]
    merged["caps"] = [c for c in CAPS if any(c in r for r in merged["eval"].values())]
    merged["command"] = " ; ".join(commands)
    merged["parts"] = commands
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_report(merged, out, args)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--caps", default="1%,10%")
    ap.add_argument("--objects", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1, help="seed of the unseen traces")
    ap.add_argument("--out", default="results/quality")
    ap.add_argument("--load", default=None,
                    help="folder of trained runs (<family>/, mixed/) instead of training")
    ap.add_argument("--no-mixed", action="store_true")
    ap.add_argument("--only-mixed", action="store_true")
    ap.add_argument("--heldout", action="store_true",
                    help="judge only the mixed agent, on the held-out workloads (HELDOUT)")
    ap.add_argument("--set", action="append", default=[], dest="sets",
                    help="SECTION.KEY=VALUE for every training config (e.g. a budget)")
    ap.add_argument("--configs", default="configs", help="folder of cache_<family>.yaml")
    ap.add_argument("--merge", default=None,
                    help="comma-separated results.json of partial runs (e.g. two run in "
                         "parallel): write one report from them into --out, no training")
    args = ap.parse_args(argv)
    if args.merge:
        return merge(args, argv)
    torch.set_num_threads(1)
    fams = [f for f in args.families.split(",") if f]
    caps = [c for c in args.caps.split(",") if c]
    out = Path(args.out)
    runs = Path(args.load) if args.load else out / "runs"
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"families": fams, "caps": caps, "eval": {}, "mixed_eval": {},
                               "heldout_eval": {}, "train_seconds": {},
                               "command": "python bench/cache_quality.py " +
                               " ".join(argv if argv is not None else sys.argv[1:])}
    traces: dict = {}
    if args.heldout:
        args.only_mixed, fams = True, list(HELDOUT)
        results["families"] = fams
    todo = ([] if args.only_mixed else fams) + ([] if args.no_mixed else ["mixed"])
    for name in todo:
        run = runs / name
        if args.load is None:
            _, sec = train_agent(Path(args.configs) / f"cache_{name}.yaml", run, args.sets)
            (run / "train_seconds.json").write_text(json.dumps(sec))
            results["train_seconds"][name] = sec
            print(f"[{name}] trained in {sec:.0f}s", flush=True)
        elif (run / "train_seconds.json").exists():
            results["train_seconds"][name] = json.loads((run / "train_seconds.json").read_text())
        agent, env_kwargs = load_agent(run)
        targets = fams if name == "mixed" else [name]
        for fam in targets:
            for c in caps:
                r = evaluate(agent, env_kwargs, fam, CAPS[c], args, traces)
                dest = results["heldout_eval" if args.heldout else
                               "mixed_eval" if name == "mixed" else "eval"]
                dest.setdefault(fam, {})[c] = r
                hr = r["hit_ratio"]
                print(f"[{name}] {fam:9s} {c:>3s}: agent {hr['agent']:.4f} best classic "
                      f"{r['best_classic']:.4f} belady {hr['BELADY']:.4f} gap "
                      f"{fmt_share(r['gap_share'])}", flush=True)
        write_report(results, out, args)
    if args.heldout:
        return 0
    if args.only_mixed:  # a table needs the per-family rows; keep the mixed ones as eval
        results["eval"] = results["mixed_eval"]
        write_report(results, out, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
