"""Training curves as a PNG, drawn with matplotlib's Agg canvas (no display, no pyplot)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

MAX_POINTS = 4000


def moving_average(values: list[float], window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` values (shorter at the start)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return data
    csum = np.cumsum(np.insert(data, 0, 0.0))
    idx = np.arange(1, data.size + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def plot_training_curves(metrics: dict[str, Any], path: str | os.PathLike[str],
                         window: int = 100) -> Path:
    """Reward (raw + moving average), evaluation mean with a std band, loss and epsilon."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from rlcache.serialization import atomic_write_bytes

    fig = Figure(figsize=(12, 8), dpi=80)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    _plot_rewards(axes[0, 0], metrics.get("episode_rewards", []), window)
    _plot_evaluations(axes[0, 1], metrics.get("evaluations", []))
    _plot_losses(axes[1, 0], metrics.get("losses", []))
    _plot_epsilons(axes[1, 1], metrics.get("epsilons", []))
    # Fixed margins: tight_layout costs more than everything else here.
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.07, top=0.95, hspace=0.3, wspace=0.18)

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    target = Path(path)
    atomic_write_bytes(target, buf.getvalue())
    return target


def _plot_rewards(ax: Any, rewards: list[float], window: int) -> None:
    if rewards:
        episodes = np.arange(1, len(rewards) + 1)
        # Long runs are thinned to about MAX_POINTS points per line: same picture, cheaper.
        k = max(1, len(rewards) // MAX_POINTS)
        ax.plot(episodes[::k], rewards[::k], color="tab:blue", alpha=0.3, linewidth=0.8,
                label="episode")
        win = max(1, min(window, len(rewards) // 5 or 1))
        ax.plot(episodes[::k], moving_average(rewards, win)[::k], color="tab:blue",
                label=f"moving average ({win})")
        ax.legend(loc="best")
    ax.set_title("Training reward")
    ax.set_xlabel("episode")


def _plot_evaluations(ax: Any, evals: list[dict[str, Any]]) -> None:
    if evals:
        x = np.array([e["episode"] for e in evals])
        mean = np.array([e["mean_reward"] for e in evals])
        std = np.array([e["std_reward"] for e in evals])
        ax.plot(x, mean, marker="o", color="tab:green", label="eval mean")
        ax.fill_between(x, mean - std, mean + std, color="tab:green", alpha=0.2, label="± std")
        ax.legend(loc="best")
    ax.set_title("Evaluation reward (greedy)")
    ax.set_xlabel("episode")


def _plot_losses(ax: Any, all_losses: list[float | None]) -> None:
    k = max(1, len(all_losses) // MAX_POINTS)
    losses = [(i + 1, v) for i, v in enumerate(all_losses) if v is not None and i % k == 0]
    if losses:
        lx, ly = zip(*losses, strict=False)
        ax.plot(lx, ly, color="tab:red", linewidth=0.8)
        if min(ly) > 0:
            ax.set_yscale("log")
    ax.set_title("Loss (mean per episode)")
    ax.set_xlabel("episode")


def _plot_epsilons(ax: Any, eps: list[float]) -> None:
    if eps:
        k = max(1, len(eps) // MAX_POINTS)
        ax.plot(np.arange(1, len(eps) + 1)[::k], eps[::k], color="tab:purple")
    ax.set_title("Epsilon")
    ax.set_xlabel("episode")
