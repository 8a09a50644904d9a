"""Run a benchmark's cells as Ray tasks; write each cell the moment it finishes.

Output folder::

    OUT/cells/<key>.json   one finished cell (written atomically by the driver)
    OUT/results.csv        every cell of this benchmark, in plan order
    OUT/summary.md         per size: miss-ratio reductions vs FIFO and LRU, wins
    OUT/reduction_vs_fifo.png, OUT/heatmap.png

A rerun with the same ``--output`` skips the cells already in ``cells/``. A cell whose Ray
worker dies is retried by Ray (``max_retries``); one that still cannot finish is left
unwritten, so the next run computes it.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlcache import testing_hooks
from rlcache.benchmark.cells import run_cell
from rlcache.benchmark.plan import (
    Cell,
    check_split,
    find_traces,
    make_cells,
    parse_policies,
    parse_sizes,
)
from rlcache.cluster import init_ray
from rlcache.errors import UserError

MAX_RETRIES = 3
MARKER = "benchmark.json"


@dataclass
class BenchmarkOptions:
    """What ``rlcache benchmark`` was asked to do."""

    traces: Sequence[str]
    output: str
    sizes: str = "0.001,0.01,0.1"
    policies: str | None = None
    split: str | None = None
    address: str | None = None
    num_cpus: int | None = None
    quiet: bool = False


@dataclass
class BenchmarkResult:
    """Where the outputs are and how many cells ran, were reused, failed or are missing."""

    output: Path
    cells: list[Cell]
    rows: list[dict[str, Any]] = field(default_factory=list)
    computed: int = 0
    reused: int = 0
    lost: list[str] = field(default_factory=list)
    interrupted: bool = False
    #: 130 after SIGINT, 143 after SIGTERM (the exit status of an interrupted command).
    exit_code: int = 0

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Rows whose cell could not be judged (a bad file, a too large size...)."""
        return [r for r in self.rows if r.get("error")]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def prepare(opts: BenchmarkOptions) -> tuple[list[Cell], Path]:
    """Check every option and make the plan; nothing is created."""
    if not str(opts.output).strip():
        raise UserError("--output: expected a folder name")
    sizes = parse_sizes(opts.sizes)
    policies = parse_policies(opts.policies)
    split = check_split(opts.split)
    traces = find_traces(opts.traces)
    for p in policies:
        kind, _, path = p.partition(":")
        if kind in ("policy", "agent") and not Path(path).exists():
            what = "file" if kind == "policy" else "run"
            raise UserError(f"--policies: {kind}:{path}: no such {what}")
    if opts.num_cpus is not None and opts.num_cpus < 1:
        raise UserError(f"--num-cpus: expected a positive count, got {opts.num_cpus}")
    out = Path(opts.output)
    if out.exists() and not out.is_dir():
        raise UserError(f"--output {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise UserError(f"--output {out}: a non-empty folder that holds no benchmark; "
                        "choose a new or empty folder")
    return make_cells(traces, sizes, policies, split), out


class _Lock:
    """An OS lock on the output folder (released when the process dies)."""

    def __init__(self, out: Path) -> None:
        self.fh = (out / ".lock").open("a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise UserError(f"--output {out}: another rlcache benchmark is writing "
                            "there") from None

    def release(self) -> None:
        """Unlock."""
        self.fh.close()


def load_finished(out: Path, cells: Sequence[Cell]) -> dict[str, dict[str, Any]]:
    """The rows already written for ``cells`` (unreadable files are recomputed)."""
    done: dict[str, dict[str, Any]] = {}
    for cell in cells:
        path = out / "cells" / f"{cell.key}.json"
        try:
            done[cell.key] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return done


class Progress:
    """Cells done / total with the ETA from this session's rate, on stderr."""

    def __init__(self, total: int, done: int, quiet: bool) -> None:
        self.total, self.done, self.start_done = total, done, done
        self.quiet = quiet
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def update(self, row: dict[str, Any]) -> None:
        """Count one finished cell and redraw (a TTY) or log now and then (a file)."""
        self.done += 1
        now = time.monotonic()
        if self.quiet or (not self.tty and now - self.last < 2.0 and self.done < self.total):
            return
        self.last = now
        new = self.done - self.start_done
        rate = new / max(now - self.started, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        width = 30
        fill = int(width * self.done / max(self.total, 1))
        what = f"{Path(row.get('trace_path', '')).name} {row.get('size')} {row.get('policy')}"
        line = (f"[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} cells, "
                f"{_clock(now - self.started)} elapsed, ETA {_clock(eta)}  {what}")
        print(("\r" + line[:150].ljust(150)) if self.tty else line, end="" if self.tty else "\n",
              file=sys.stderr, flush=True)

    def close(self) -> None:
        """End the bar's line."""
        if self.tty and not self.quiet:
            print(file=sys.stderr)


def _clock(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _remote(num_cpus: float = 1) -> Callable[..., Any]:
    import ray

    return ray.remote(num_cpus=num_cpus, max_retries=MAX_RETRIES)(run_cell)


def _run_on_ray(todo: list[Cell], out: Path, opts: BenchmarkOptions, progress: Progress,
                result: BenchmarkResult) -> None:
    import ray

    task = _remote()
    window = 4 * max(1, int(ray.cluster_resources().get("CPU", 1)))
    limit = testing_hooks.benchmark_interrupt_after()
    pending: dict[Any, Cell] = {}
    queue = list(todo)
    while queue or pending:
        while queue and len(pending) < window:
            cell = queue.pop(0)
            pending[task.remote(cell)] = cell
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            cell = pending.pop(ref)
            try:
                row = ray.get(ref)
            except ray.exceptions.RayError as exc:
                result.lost.append(f"{cell.trace} {cell.size} {cell.policy}: "
                                   f"{type(exc).__name__}")
                continue
            _atomic_write(out / "cells" / f"{cell.key}.json", json.dumps(row, sort_keys=True))
            result.computed += 1
            progress.update(row)
            if limit and result.computed == limit:
                os.kill(os.getpid(), signal.SIGINT)


def _on_sigterm(result: BenchmarkResult) -> Any:
    """Turn SIGTERM into an interrupt (noted as 143; Ray may re-raise it as a plain one)."""
    def handler(signum: int, frame: Any) -> None:
        result.exit_code = 143
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave SIGTERM alone
        return None


def run_benchmark(opts: BenchmarkOptions) -> BenchmarkResult:
    """Judge every cell not already finished in ``opts.output``, then write the reports."""
    cells, out = prepare(opts)
    out.mkdir(parents=True, exist_ok=True)
    lock = _Lock(out)
    try:
        (out / "cells").mkdir(exist_ok=True)
        if not (out / MARKER).exists():
            _atomic_write(out / MARKER, json.dumps({"format": 1}) + "\n")
        done = load_finished(out, cells)
        result = BenchmarkResult(out, cells, reused=len(done))
        todo = [c for c in cells if c.key not in done]
        progress = Progress(len(cells), len(done), opts.quiet)
        if todo:
            started = init_ray(opts.address, opts.num_cpus, opts.quiet)
            progress.started = time.monotonic()  # the ETA counts cells, not Ray's start-up
            previous = _on_sigterm(result)
            try:
                _run_on_ray(todo, out, opts, progress, result)
            except KeyboardInterrupt:
                result.interrupted = True
                result.exit_code = result.exit_code or 130
            finally:
                if previous is not None:
                    signal.signal(signal.SIGTERM, previous)
                progress.close()
                if started:
                    import ray

                    ray.shutdown()
        finish(result)
    finally:
        lock.release()
    return result


def finish(result: BenchmarkResult) -> None:
    """results.csv, summary.md and plots from every finished cell of the plan."""
    from rlcache.benchmark.summary import write_reports

    done = load_finished(result.output, result.cells)
    result.rows = [done[c.key] for c in result.cells if c.key in done]
    paths = list(dict.fromkeys(c.trace for c in result.cells))
    write_reports(result.output, result.rows, paths,
                  complete=len(result.rows) == len(result.cells))
