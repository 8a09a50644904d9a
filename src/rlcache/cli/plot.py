"""``rlcache plot``: one run's training curves, or several runs overlaid."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import click

from rlcache.cli.common import CONTEXT_SETTINGS
from rlcache.errors import UserError

EPILOG = """\b
Examples:
  rlcache plot results/run1                      # redraws results/run1/training_curves.png
  rlcache plot results/run1 --out run1.png
  rlcache plot results/run1 results/run2 --out compare.png
"""


def read_metrics(run_dir: str | Path) -> dict[str, Any]:
    """A run folder's ``metrics.json``; UserError if missing or malformed."""
    path = Path(run_dir) / "metrics.json"
    if not Path(run_dir).is_dir():
        raise UserError(f"{run_dir}: run folder not found")
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{run_dir}: no metrics.json (not a run folder, or no episode "
                        f"finished yet)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: unreadable metrics ({exc})") from None
    if not isinstance(metrics, dict) or not isinstance(metrics.get("episode_rewards"), list):
        raise UserError(f"{path}: expected an object with episode_rewards")
    for key in ("episode_rewards", "losses", "epsilons"):
        _check_numbers(metrics.get(key) or [], f"{path}: {key}", allow_null=key == "losses")
    evals = metrics.get("evaluations") or []
    if not isinstance(evals, list) or not all(isinstance(e, dict) for e in evals):
        raise UserError(f"{path}: evaluations: expected a list of objects")
    for key in ("episode", "mean_reward"):
        _check_numbers([e.get(key) for e in evals], f"{path}: evaluations.{key}")
    _check_numbers([e.get("std_reward", 0.0) or 0.0 for e in evals],
                   f"{path}: evaluations.std_reward")
    return metrics


PLOTTABLE = 1e300
"""Beyond this a mean ± std overflows to infinity, which matplotlib cannot place."""


def _check_numbers(values: Any, where: str, allow_null: bool = False) -> None:
    """UserError unless ``values`` is a list of finite numbers matplotlib can draw."""
    if not isinstance(values, list):
        raise UserError(f"{where}: expected a list of numbers, got {type(values).__name__}")
    for i, value in enumerate(values):
        if value is None and allow_null:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value) or abs(value) > PLOTTABLE:
            raise UserError(f"{where}[{i}]: expected a finite number (|x| <= 1e300), "
                            f"got {value!r}")


def _labels(run_dirs: list[Path]) -> list[str]:
    names = [p.resolve().name for p in run_dirs]
    if len(set(names)) == len(names):
        return names
    return [str(p) for p in run_dirs]


def plot_runs(run_dirs: list[Path], out: Path, window: int = 50) -> Path:
    """Overlay several runs: training reward (moving average), evaluation, loss, epsilon."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from rlcache.serialization import atomic_write_bytes
    from rlcache.training.plots import moving_average

    runs = [read_metrics(d) for d in run_dirs]
    fig = Figure(figsize=(12, 8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    for label, metrics in zip(_labels(run_dirs), runs, strict=True):
        rewards = metrics.get("episode_rewards") or []
        episodes = range(1, len(rewards) + 1)
        if rewards:
            axes[0, 0].plot(episodes, moving_average(rewards, window), label=label)
        evals = metrics.get("evaluations") or []
        if evals:
            xs = [e["episode"] for e in evals]
            mean = [e["mean_reward"] for e in evals]
            std = [e.get("std_reward", 0.0) or 0.0 for e in evals]
            line = axes[0, 1].plot(xs, mean, marker="o", markersize=3, label=label)[0]
            axes[0, 1].fill_between(xs, [m - s for m, s in zip(mean, std, strict=True)],
                                    [m + s for m, s in zip(mean, std, strict=True)],
                                    color=line.get_color(), alpha=0.15)
        losses = [(i + 1, v) for i, v in enumerate(metrics.get("losses") or []) if v is not None]
        if losses:
            axes[1, 0].plot([x for x, _ in losses],
                            moving_average([v for _, v in losses], window), label=label)
        eps = metrics.get("epsilons") or []
        if eps:
            axes[1, 1].plot(range(1, len(eps) + 1), eps, label=label)
    titles = ((f"Training reward ({window}-episode average)", "reward"),
              ("Evaluation reward (mean ± std)", "reward"),
              (f"Loss ({window}-episode average)", "loss"), ("Epsilon", "epsilon"))
    for ax, (title, ylabel) in zip(axes.flat, titles, strict=True):
        ax.set_title(title)
        ax.set_xlabel("episode")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    atomic_write_bytes(out, buf.getvalue())
    return out


def run_plot(run_dirs: list[str | Path], out: str | Path | None = None) -> Path:
    """Draw one run's curves (the trainer's plot) or several runs overlaid; returns the PNG."""
    dirs = [Path(d) for d in run_dirs]
    if not dirs:
        raise UserError("plot: give at least one RUN_DIR")
    if out is not None and Path(out).suffix.lower() != ".png":
        raise UserError(f"--out {out}: expected a .png file name")
    runs = [read_metrics(d) for d in dirs]  # every folder checked before any import
    if len(dirs) == 1:
        from rlcache.training.plots import plot_training_curves

        target = Path(out) if out is not None else dirs[0] / "training_curves.png"
        return Path(plot_training_curves(runs[0], target))
    return plot_runs(dirs, Path(out) if out is not None else Path("comparison.png"))


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.argument("run_dirs", nargs=-1, required=True, metavar="RUN_DIR [RUN_DIR ...]")
@click.option("--out", "-o", metavar="FILE.png",
              help="Where to write the PNG (default: RUN_DIR/training_curves.png for one "
                   "run, comparison.png for several).")
def plot(run_dirs: tuple[str, ...], out: str | None) -> None:
    """Plot a run's training curves, or overlay several runs to compare them."""
    path = run_plot(list(run_dirs), out)
    click.echo(f"Wrote {path}")
