"""Sweep outputs: results table and CSV, seed groups, the best config, evaluation curves."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rlcache.config import RunConfig
from rlcache.serialization import atomic_write_text
from rlcache.sweep.space import SEED_KEY, apply_params, flat_params

RESULT_COLUMNS = ("episode", "total_steps", "eval_mean_reward", "eval_std_reward",
                  "eval_hit_ratio", "restored_from_episode", "attempt", "run_dir")


def trial_rows(results: Sequence[Any], metric: str) -> list[dict[str, Any]]:
    """One row per Tune result: trial, status, params, last reported metrics."""
    rows = []
    for result in results:
        metrics = dict(result.metrics or {})
        run_dir = metrics.get("run_dir")
        name = Path(run_dir).name if run_dir else Path(result.path).name
        row: dict[str, Any] = {"trial": name,
                               "status": "ERROR" if result.error else "OK"}
        row.update(flat_params(result.config or {}))
        for key in RESULT_COLUMNS:
            if key in metrics:
                row[key] = metrics[key]
        row["metric"] = metrics.get(metric, math.nan)
        rows.append(row)
    return rows


def param_keys(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The dotted config keys that vary across trials (in first-seen order)."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if "." in k and k not in keys and k != "run_dir"]
    return keys


def group_rows(rows: Sequence[Mapping[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Trials grouped by their params other than the seed: mean ± std of the final metric,
    best group first."""
    import numpy as np

    keys = [k for k in param_keys(rows) if k != SEED_KEY]
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        params = {k: row.get(k) for k in keys}
        label = json.dumps(params, sort_keys=True, default=str)
        group = groups.setdefault(label, {"params": params, "values": [], "trials": []})
        group["trials"].append(row["trial"])
        value = row.get("metric")
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            group["values"].append(float(value))
    out = []
    for group in groups.values():
        values = np.array(group["values"], dtype=float)
        out.append({**group, "n": len(values),
                    "mean": float(values.mean()) if len(values) else math.nan,
                    "std": float(values.std()) if len(values) else math.nan})
    out.sort(key=lambda g: -g["mean"] if not math.isnan(g["mean"]) else math.inf)
    return out


def write_csv(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """``results.csv``: one line per trial, best metric first."""
    import pandas as pd

    frame = pd.DataFrame(list(rows))
    if not frame.empty:
        frame = frame.sort_values("metric", ascending=False, na_position="last")
    atomic_write_text(path, frame.to_csv(index=False))
    return path


def format_table(rows: Sequence[Mapping[str, Any]], metric: str) -> str:
    """A plain-text table of the trials, best first."""
    import pandas as pd

    cols = ["trial", "status", *param_keys(rows), "episode", "metric", "attempt"]
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return "(no trials reported)"
    frame = frame[[c for c in cols if c in frame.columns]]
    frame = frame.sort_values("metric", ascending=False, na_position="last")
    frame = frame.rename(columns={"metric": metric, "attempt": "attempts"})
    return frame.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def format_groups(groups: Sequence[Mapping[str, Any]], metric: str) -> str:
    """``mean ± std (n seeds)`` of the final metric for each group of seeds."""
    lines = [f"Final {metric} over seeds (mean ± std):"]
    for group in groups:
        params = ", ".join(f"{k}={v}" for k, v in group["params"].items()) or "(base config)"
        lines.append(f"  {group['mean']:.4f} ± {group['std']:.4f}  (n={group['n']})  {params}")
    return "\n".join(lines)


def best_config(base: RunConfig, params: Mapping[str, Any]) -> RunConfig:
    """The sweep's base config with the winning params, without search/scheduler."""
    config = base.copy()
    config.extra = {}
    return apply_params(config, {k: v for k, v in params.items() if v is not None},
                        "best trial").validate()


def write_best_config(config: RunConfig, path: Path, header: str) -> Path:
    """A YAML file that ``rlcache train --config`` runs as is."""
    lines = "".join(f"# {line}\n" for line in header.splitlines())
    atomic_write_text(path, lines + config.to_yaml())
    return path


def plot_curves(rows: Sequence[Mapping[str, Any]], metric: str, path: Path) -> Path | None:
    """Each trial's evaluation curve (from its run folder's metrics.json) in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = "hit_ratio" if metric == "eval_hit_ratio" else "mean_reward"
    fig, ax = plt.subplots(figsize=(8, 5))
    drawn = 0
    for row in rows:
        run_dir = row.get("run_dir")
        metrics_file = Path(run_dir) / "metrics.json" if run_dir else None
        if metrics_file is None or not metrics_file.exists():
            continue
        evals = json.loads(metrics_file.read_text()).get("evaluations", [])
        points = [(e["episode"], e[key]) for e in evals if key in e]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", markersize=3, label=row["trial"])
            drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("training episode")
    ax.set_ylabel(f"evaluation {key.replace('_', ' ')}")
    ax.set_title("Sweep: evaluation curves per trial")
    if drawn <= 12:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
