"""Chaos run: kill ``rlcache train`` with SIGKILL at random instants, resume, compare.

    python bench/chaos.py --kills 200 --seed 1 [--slow-write 0.02] [--out DIR] [--keep]
        [--num-envs 3]

A tiny seeded mock run (a full run is a few seconds, most of it interpreter and torch
start-up) is started with ``--resume auto``; each process is SIGKILLed at a random
instant, then resumed the same way, until ``--kills`` kills have been made; a run that
completes before that starts a new chain in a fresh folder. Every chain is then run to
completion and its ``metrics.json`` (less ``elapsed_seconds``) and final ``latest.pt``
(Q-network, target network, optimizer, replay buffer, counters) must equal an
uninterrupted run's, bit for bit. ``--num-envs 3`` runs the same with envs stepped in
lockstep rounds (``training.num_envs``): every checkpoint lands at a round's end.

Kill instants, drawn in turn from three modes:

- ``anytime``: uniform over a whole process lifetime, measured from its start (start-up,
  loading, training, checkpointing, plotting);
- ``training``: uniform over the training phase, from this process's first write;
- ``in_write``: the moment a checkpoint or metrics temp file appears, plus up to the
  widened write window. ``RLCACHE_TEST_SLOW_WRITE`` (seconds; read by
  ``rlcache.testing_hooks``) makes each rename wait that long, so these kills land
  between a write and its rename, or between a ``.pt`` rename and its JSON rename.

The first kill of a chain waits until the chain has a completed checkpoint: before
that, ``--resume auto`` in a folder holding a run but no checkpoint is refused by the
CLI (see tests/reliability/test_kill.py::test_kill_before_first_checkpoint_resumes_fresh).

Child processes run with one torch thread (OMP_NUM_THREADS=1, RLCACHE_TORCH_THREADS=1).
The test suite uses the same functions (tests/reliability/test_kill.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TINY_CONFIG: dict[str, Any] = {
    "training": {
        "max_episodes": 30, "max_steps_per_episode": 30, "eval_frequency": 5,
        "eval_episodes": 1, "checkpoint_frequency": 3, "keep_last": 2,
        "early_stopping": False, "seed": 5, "plot_frequency": 100000, "log_frequency": 5,
        "verbose": False,
    },
    "rl": {
        "hidden_sizes": [16], "batch_size": 8, "buffer_size": 1000, "learning_starts": 32,
        "train_freq": 2, "target_update_interval": 50, "exploration_steps": 500,
    },
    "env": {"name": "mock", "episode_length": 30},
}
"""A seeded mock run of 30 episodes x 30 steps: eval every 5, checkpoint every 3."""


def tiny_config(num_envs: int = 1) -> dict[str, Any]:
    """``TINY_CONFIG`` with ``training.num_envs``: at 3, rounds of 3 episodes, so its
    checkpoints (due every 3 or 5 episodes) land at the ends of rounds 3, 6, 9, ..."""
    config = {**TINY_CONFIG, "training": {**TINY_CONFIG["training"]}}
    if num_envs != 1:
        config["training"]["num_envs"] = num_envs
    return config

MODES = ("anytime", "training", "in_write")


def write_config(folder: Path, config: dict[str, Any] | None = None) -> Path:
    """Write the run config YAML into ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "chaos.yaml"
    path.write_text(yaml.safe_dump(config or TINY_CONFIG, sort_keys=False))
    return path


def child_env(slow_write: float = 0.0) -> dict[str, str]:
    """Environment for a child ``rlcache``: one torch thread, headless plots."""
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": "1", "RLCACHE_TORCH_THREADS": "1", "MKL_NUM_THREADS": "1",
                "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"})
    env.pop("RLCACHE_TEST_SLOW_WRITE", None)
    if slow_write > 0:
        env["RLCACHE_TEST_SLOW_WRITE"] = str(slow_write)
    return env


def rlcache_cmd(*args: str) -> list[str]:
    """``rlcache ARGS`` as this interpreter's ``python -m rlcache.cli``."""
    return [sys.executable, "-m", "rlcache.cli", *args]


def train_cmd(config: Path, out: Path, *extra: str) -> list[str]:
    return rlcache_cmd("train", "-c", str(config), "-o", str(out), "--resume", "auto",
                       "--quiet", *extra)


def start(cmd: list[str], slow_write: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env(slow_write))


# ----------------------------------------------------------------------------- checks


def temporaries(out: Path) -> list[Path]:
    """Temp files of unfinished atomic writes in the run folder and its checkpoints."""
    found: list[Path] = []
    for folder in (out, out / "checkpoints"):
        if folder.is_dir():
            found += [p for p in folder.iterdir() if p.name.startswith(".")
                      and p.name.endswith(".tmp")]
    return found


def slot_states(out: Path) -> dict[str, str]:
    """Each checkpoint slot: ``intact``, ``no-json``, ``bad-json`` or ``hash-mismatch``."""
    states: dict[str, str] = {}
    folder = out / "checkpoints"
    if not folder.is_dir():
        return states
    for pt in sorted(folder.glob("*.pt")):
        js = pt.with_suffix(".json")
        if not js.exists():
            states[pt.stem] = "no-json"
            continue
        try:
            meta = json.loads(js.read_text())
            expected = meta["sha256"]
        except (ValueError, KeyError, TypeError):
            states[pt.stem] = "bad-json"
            continue
        actual = hashlib.sha256(pt.read_bytes()).hexdigest()
        states[pt.stem] = "intact" if actual == expected else "hash-mismatch"
    return states


def has_completed_checkpoint(out: Path) -> bool:
    folder = out / "checkpoints"
    return folder.is_dir() and any(p.with_suffix(".json").exists() for p in folder.glob("*.pt"))


def metrics_without_time(out: Path) -> dict[str, Any]:
    data = json.loads((out / "metrics.json").read_text())
    data.pop("elapsed_seconds", None)
    return data


def compare_runs(run: Path, ref: Path) -> list[str]:
    """Differences between two finished runs: metrics.json and the final latest.pt state."""
    import torch

    problems: list[str] = []
    if metrics_without_time(run) != metrics_without_time(ref):
        a, b = metrics_without_time(run), metrics_without_time(ref)
        keys = [k for k in b if a.get(k) != b[k]]
        problems.append(f"metrics.json differs in {keys}")
    sa = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)["agent"]
    sb = torch.load(ref / "checkpoints" / "latest.pt", weights_only=True)["agent"]
    for net in ("q_net", "target_net"):
        if sa[net].keys() != sb[net].keys():
            problems.append(f"{net} keys differ")
            continue
        for key, value in sb[net].items():
            if not torch.equal(sa[net][key], value):
                problems.append(f"latest.pt {net}.{key} differs")
    for idx, state in sb["optimizer"]["state"].items():
        for key, value in state.items():
            other = sa["optimizer"]["state"].get(idx, {}).get(key)
            if not (isinstance(value, torch.Tensor) and isinstance(other, torch.Tensor)
                    and torch.equal(value, other)) and value != other:
                problems.append(f"latest.pt optimizer {idx}.{key} differs")
    for key in ("num_steps", "num_updates"):
        if sa.get(key) != sb.get(key):
            problems.append(f"latest.pt agent {key} differs")
    ra, rb = sa.get("replay") or {}, sb.get("replay") or {}
    for key, value in rb.items():
        if isinstance(value, torch.Tensor) and not torch.equal(value, ra.get(key)):
            problems.append(f"latest.pt replay.{key} differs")
    return problems


# ----------------------------------------------------------------------------- the run


@dataclass
class ChaosReport:
    """What a chaos run did and found."""

    seed: int
    kills: int = 0
    kills_by_mode: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODES, 0))
    kills_leaving_temp_files: int = 0
    kills_leaving_torn_slot: int = 0
    resumes_with_fallback: int = 0
    processes: int = 0
    chains: int = 0
    """Finished chains of resumed runs (one folder each, compared with the reference)."""
    chains_equal: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        modes = ", ".join(f"{k} {v}" for k, v in self.kills_by_mode.items())
        held = "ALL HELD" if not self.failures else f"{len(self.failures)} FAILURES"
        lines = [
            f"chaos seed {self.seed}: {self.kills} SIGKILLs ({modes}) over "
            f"{self.processes} processes, {self.chains} chains, {self.seconds:.0f} s",
            f"  kills that left a temp file (inside a write): {self.kills_leaving_temp_files}",
            f"  kills that left a torn slot (new .pt, old/no JSON): "
            f"{self.kills_leaving_torn_slot}",
            f"  resumes that fell back past a damaged checkpoint (warning naming it): "
            f"{self.resumes_with_fallback}",
            f"  chains equal to the uninterrupted run (metrics.json + latest.pt): "
            f"{self.chains_equal}/{self.chains}",
            f"  {held}",
        ]
        lines += [f"  FAIL: {f}" for f in self.failures]
        return "\n".join(lines)


def reference_run(folder: Path, config_path: Path, timeout: float = 300) -> tuple[Path, float]:
    """An uninterrupted run into ``folder/reference``; returns (run dir, wall seconds)."""
    out = folder / "reference"
    began = time.monotonic()
    proc = subprocess.run(train_cmd(config_path, out), capture_output=True, text=True,
                          env=child_env(), timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"reference run failed ({proc.returncode}): {proc.stderr}")
    return out, time.monotonic() - began


def _wait_until(pred: Any, proc: subprocess.Popen[str], deadline: float,
                poll: float = 0.003) -> bool:
    """Poll ``pred()`` until true (True), the process exits or the deadline (False)."""
    while time.monotonic() < deadline:
        if pred():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(poll)
    return False


def _sleep_or_exit(seconds: float, proc: subprocess.Popen[str]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and proc.poll() is None:
        time.sleep(min(0.005, max(0.0, end - time.monotonic())))


def _finish(proc: subprocess.Popen[str], out: Path, report: ChaosReport, what: str,
            timeout: float) -> bool:
    """Collect a process that ran to its end: True if it exited 0 cleanly."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        report.failures.append(f"{out.name}: {what} did not finish in {timeout:.0f} s")
        return False
    if "is not usable" in err:
        report.resumes_with_fallback += 1
    if proc.returncode != 0 or "Traceback" in err:
        report.failures.append(f"{out.name}: {what} exited {proc.returncode}: "
                               f"{err.strip()[-2000:]}")
        return False
    return True


def kill_chains(workdir: Path, config_path: Path, kills: int, seed: int,
                slow_write: float = 0.02, progress: bool = False, timeout: float = 300,
                lifetime: float = 8.0) -> tuple[ChaosReport, list[Path]]:
    """Make ``kills`` SIGKILLs across chains of resumed runs in ``workdir``; finish every
    chain. Returns the report (not yet compared) and the finished chain folders."""
    began = time.monotonic()
    rnd = random.Random(seed)
    report = ChaosReport(seed=seed)
    life = lifetime  # a whole process lifetime with the widened writes; refined as seen
    train_span = lifetime / 2  # the training phase of a whole run; refined as seen
    chain_dirs = [workdir / "chain0"]
    out = chain_dirs[0]
    while report.kills < kills:
        mode = MODES[report.kills % len(MODES)]
        proc = start(train_cmd(config_path, out), slow_write)
        report.processes += 1
        t0 = time.monotonic()
        deadline = t0 + timeout
        alive = True
        if not has_completed_checkpoint(out):
            alive = _wait_until(lambda o=out: has_completed_checkpoint(o), proc, deadline)
        if alive:
            if mode == "anytime":
                _sleep_or_exit(max(0.0, rnd.uniform(0, life) - (time.monotonic() - t0)), proc)
            elif mode == "training":
                alive = _wait_until(lambda o=out: bool(temporaries(o)), proc, deadline)
                if alive:
                    t_first = time.monotonic()
                    left = _fraction_left(out, config_path)
                    _sleep_or_exit(rnd.uniform(0, train_span * left), proc)
                    if proc.poll() is not None and left > 0:  # ran out: learn the span
                        train_span = max(0.3, 0.8 * (time.monotonic() - t_first) / left)
            else:
                skip = rnd.randrange(0, 12)  # which write of this process to hit
                while alive:
                    alive = _wait_until(lambda o=out: bool(temporaries(o)), proc, deadline,
                                        poll=0.001)
                    if alive and skip == 0:
                        # Staging, the .pt rename and the JSON rename each take about
                        # slow_write: this spans all three.
                        _sleep_or_exit(rnd.uniform(0, 3 * slow_write), proc)
                        break
                    skip -= 1
                    if alive:
                        _wait_until(lambda o=out: not temporaries(o), proc, deadline,
                                    poll=0.001)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            report.kills += 1
            report.kills_by_mode[mode] += 1
            if temporaries(out):
                report.kills_leaving_temp_files += 1
            if any(s != "intact" for s in slot_states(out).values()):
                report.kills_leaving_torn_slot += 1
            if progress:
                print(f"  [{workdir.name}] kill {report.kills:4d} ({mode:8s}) after "
                      f"{time.monotonic() - t0:5.2f} s: slots "
                      f"{sorted(set(slot_states(out).values()))}", flush=True)
        else:
            # The process ended by itself: it must have exited 0 (completed or nothing left).
            life = max(life * 0.8, time.monotonic() - t0)
            if not _finish(proc, out, report, "a resumed process", timeout):
                break
            if _complete(out, config_path):
                out = workdir / f"chain{len(chain_dirs)}"
                chain_dirs.append(out)
    finished = []
    for out in chain_dirs:
        if not out.exists():
            continue  # a fresh chain never started
        if not _complete(out, config_path):
            proc = start(train_cmd(config_path, out))
            report.processes += 1
            if not _finish(proc, out, report, "the final resume", timeout):
                continue
        finished.append(out)
    report.seconds = time.monotonic() - began
    return report, finished


def chaos(workdir: Path, kills: int, seed: int, slow_write: float = 0.02, width: int = 2,
          config: dict[str, Any] | None = None, progress: bool = False,
          timeout: float = 300) -> ChaosReport:
    """``kills`` SIGKILLs split over ``width`` concurrent streams of chains (seeds
    ``seed``, ``seed + 1``, ...), an uninterrupted reference run beside them, and every
    finished chain compared with the reference."""
    from concurrent.futures import ThreadPoolExecutor

    began = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = write_config(workdir, config)
    ref_proc = start(train_cmd(config_path, workdir / "reference"))
    shares = [kills // width + (1 if i < kills % width else 0) for i in range(width)]
    with ThreadPoolExecutor(max_workers=width) as pool:
        futures = [pool.submit(kill_chains, workdir / f"stream{i}", config_path, n, seed + i,
                               slow_write, progress, timeout)
                   for i, n in enumerate(shares) if n > 0]
        results = [f.result() for f in futures]
    _, err = ref_proc.communicate(timeout=timeout)
    if ref_proc.returncode != 0:
        raise RuntimeError(f"reference run failed ({ref_proc.returncode}): {err}")
    report = ChaosReport(seed=seed)
    for part, chains in results:
        report.kills += part.kills
        for mode, n in part.kills_by_mode.items():
            report.kills_by_mode[mode] += n
        report.kills_leaving_temp_files += part.kills_leaving_temp_files
        report.kills_leaving_torn_slot += part.kills_leaving_torn_slot
        report.resumes_with_fallback += part.resumes_with_fallback
        report.processes += part.processes
        report.failures += part.failures
        for out in chains:
            report.chains += 1
            problems = compare_runs(out, workdir / "reference")
            if problems:
                report.failures.append(f"{out}: {'; '.join(problems)}")
            else:
                report.chains_equal += 1
    report.processes += 1  # the reference
    report.seconds = time.monotonic() - began
    return report


def _fraction_left(out: Path, config_path: Path) -> float:
    """Share of the run's episodes still to train, from the newest ``latest.json``."""
    try:
        meta = json.loads((out / "checkpoints" / "latest.json").read_text())
        episodes = yaml.safe_load(config_path.read_text())["training"]["max_episodes"]
        return max(0.05, 1 - int(meta["episode"]) / int(episodes))
    except (OSError, ValueError, KeyError, TypeError):
        return 1.0


def _complete(out: Path, config_path: Path) -> bool:
    """True if ``out`` holds a finished run of the config's max_episodes."""
    try:
        meta = json.loads((out / "checkpoints" / "latest.json").read_text())
        episodes = yaml.safe_load(config_path.read_text())["training"]["max_episodes"]
        return int(meta["episode"]) >= int(episodes)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs to make (default 20)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill instants")
    parser.add_argument("--slow-write", type=float, default=0.02,
                        help="RLCACHE_TEST_SLOW_WRITE seconds for the children (default 0.02)")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: temp)")
    parser.add_argument("--width", type=int, default=2,
                        help="concurrent kill streams (default 2, one per core)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--quiet", action="store_true", help="no line per kill")
    parser.add_argument("--num-envs", type=int, default=1,
                        help="training.num_envs of the tiny run (default 1)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    workdir = args.out or Path(tempfile.mkdtemp(prefix="rlcache-chaos-"))
    print(f"chaos: {args.kills} kills, seed {seed}, slow write {args.slow_write} s, "
          f"num_envs {args.num_envs}, work folder {workdir}", flush=True)
    report = chaos(workdir, args.kills, seed, args.slow_write, width=args.width,
                   config=tiny_config(args.num_envs), progress=not args.quiet)
    print(report.summary())
    if not args.keep and args.out is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())
