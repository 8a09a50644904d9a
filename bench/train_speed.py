"""Training throughput of ``rlcache train --env cache``: decisions per second, before/after.

Runs real ``rlcache train`` processes (``python -m rlcache.cli train``) and reads each run's
``metrics.json``: decisions/s is ``total_steps / elapsed_seconds`` (the training loop,
imports and start-up excluded; the first episodes' numba cache load included). Every
case runs ``--repeats`` times, alternating with the others; the table shows medians::

    .venv/bin/python bench/train_speed.py                                 # both cases
    .venv/bin/python bench/train_speed.py --num-envs 1 8 16 --repeats 3
    .venv/bin/python bench/train_speed.py --src /tmp/before/src           # another tree too
    .venv/bin/python bench/train_speed.py --num-envs 16 --set rl.gradient_steps=4

Cases: ``trace`` is ``configs/cache_trace.yaml`` on ``--trace`` (default the shared
cache2k_web12) with ``env.split=train``; ``mixed`` is ``configs/cache_mixed.yaml``. Each
trains ``--episodes`` episodes (default 16: a whole round at 16 envs) with no evaluation
in between. ``--src DIR`` adds the same runs from another source tree (e.g. an older
commit's ``src``, for a before/after table at num_envs 1).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACE = next((d / "shared" / "traces" / "cache2k_web12.oracleGeneral.bin.zst"
              for d in (ROOT.parent, ROOT.parents[1])
              if (d / "shared" / "traces").is_dir()), Path("cache2k_web12.oracleGeneral.bin.zst"))
CASES = {"trace": ["-c", str(ROOT / "configs" / "cache_trace.yaml"), "--set", "env.split=train"],
         "mixed": ["-c", str(ROOT / "configs" / "cache_mixed.yaml")]}


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def run_once(src: Path, case: str, trace: Path, episodes: int, num_envs: int | None,
             tmp: Path, sets: list[str] | None = None) -> dict[str, float]:
    """One ``rlcache train`` process; its decisions/s and whole-process wall time."""
    out = tmp / f"run-{time.monotonic_ns()}"
    args = [sys.executable, "-m", "rlcache.cli", "train", *CASES[case], "--episodes",
            str(episodes), "--set", "training.eval_frequency=1000", "--set",
            "training.verbose=false", "-o", str(out)]
    if case == "trace":
        args += ["--trace", str(trace)]
    if num_envs is not None:
        args += ["--set", f"training.num_envs={num_envs}"]
        for kv in sets or []:  # this tree's runs only: another tree may not know the key
            args += ["--set", kv]
    env = {**os.environ, "PYTHONPATH": str(src), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)}\n{done.stderr}")
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    m = json.loads((out / "metrics.json").read_text())
    return {"decisions_per_s": m["total_steps"] / m["elapsed_seconds"], "wall_s": wall,
            "per_cpu_s": m["total_steps"] / cpu,
            "steps": m["total_steps"],
            "mean_reward": statistics.fmean(m["episode_rewards"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=["trace", "mixed"])
    parser.add_argument("--trace", type=Path, default=TRACE)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for this tree's runs (e.g. rl.gradient_steps=4)")
    parser.add_argument("--src", type=Path, nargs="*", default=[],
                        help="other source trees to run at num_envs 1 (their own defaults)")
    args = parser.parse_args()
    plan = [(ROOT / "src", n) for n in args.num_envs] + [(s, None) for s in args.src]
    rows: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="rlcache-train-speed-") as tmp:
        for _ in range(args.repeats):
            for case in args.cases:
                for src, n in plan:
                    key = (case, str(src), "default" if n is None else str(n))
                    rows.setdefault(key, []).append(
                        run_once(src, case, args.trace, args.episodes, n, Path(tmp),
                                 args.set))
    print(f"{args.episodes} episodes per run, medians of {args.repeats} runs (decisions/s: "
          f"of the training loop's wall time; /CPU-s: per CPU-second of the whole process, "
          f"start-up included; wall: the whole process)")
    head = f"{'case':6s} {'source':40s} {'envs':>7s} {'decisions/s':>12s} {'/CPU-s':>8s} " \
           f"{'wall s':>7s} {'steps':>7s} {'mean return':>12s}"
    print(head + "\n" + "-" * len(head))
    for (case, src, n), runs in rows.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{case:6s} {src[-40:]:40s} {n:>7s} {med['decisions_per_s']:12.0f} "
              f"{med['per_cpu_s']:8.0f} "
              f"{med['wall_s']:7.1f} {med['steps']:7.0f} {med['mean_reward']:12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
