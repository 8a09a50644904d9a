"""One sweep trial: the same builders and Trainer as ``rlcache train``, reporting to Tune.

Each trial trains in its own run folder ``OUTPUT/runs/<trial name>`` (the same layout as
``rlcache train``'s). After every evaluation, once the Trainer has written ``latest``,
the trial reports the evaluation to Tune with ``latest.pt`` + ``.json`` as the Tune
checkpoint. When Tune restarts the trial (a crash under ``FailureConfig``, or
``--resume`` of an interrupted sweep) the trial loads that checkpoint and continues
exactly where it was reported; each start is logged in ``sweep_attempts.jsonl``.

Fault injection for tests: with ``RLCACHE_FAULT_AT_EPISODE=N`` a trial that started
fresh kills its own process (``os._exit``) right after reporting the first evaluation at
episode >= N; a restored trial never does, so the restart can finish.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlcache import testing_hooks
from rlcache.runs import LOCK_NAME

ATTEMPTS_FILE = "sweep_attempts.jsonl"
CHECKPOINT_FILES = ("latest.pt", "latest.json")


def trial_metrics(entry: Mapping[str, Any], restored: int, attempt: int,
                  run_dir: Path) -> dict[str, Any]:
    """What a trial reports to Tune for one evaluation entry."""
    metrics: dict[str, Any] = {
        "episode": int(entry["episode"]),
        "total_steps": int(entry["total_steps"]),
        "eval_mean_reward": float(entry["mean_reward"]),
        "eval_std_reward": float(entry["std_reward"]),
        "restored_from_episode": restored,
        "attempt": attempt,
        "run_dir": str(run_dir),
    }
    if "hit_ratio" in entry:
        metrics["eval_hit_ratio"] = float(entry["hit_ratio"])
    return metrics


def _clear_run_dir(run_dir: Path) -> None:
    """Empty a run folder left by an attempt that never reported (keeps the attempts log)."""
    if not run_dir.is_dir():
        return
    for child in run_dir.iterdir():
        if child.name in (ATTEMPTS_FILE, LOCK_NAME):
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def _log_attempt(run_dir: Path, restored: int) -> int:
    """Append this start to the attempts log; its 1-based number."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / ATTEMPTS_FILE
    attempt = 1 + (len(path.read_text().splitlines()) if path.exists() else 0)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"attempt": attempt, "restored_from_episode": restored,
                             "pid": os.getpid(), "time": time.time()}) + "\n")
    return attempt


def _report(metrics: dict[str, Any], checkpoint_dir: Path) -> None:
    """``tune.report`` with the trainer's latest checkpoint (hard-linked, else copied)."""
    from ray import tune

    with tempfile.TemporaryDirectory(prefix="rlcache-ckpt-") as tmp:
        for name in CHECKPOINT_FILES:
            src, dst = checkpoint_dir / name, Path(tmp) / name
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))


def run_trial(config: dict[str, Any], base: dict[str, Any], runs_root: str) -> None:
    """The Tune function trainable: build from ``base`` + this trial's params, train."""
    from ray import tune

    from rlcache import builders, runs
    from rlcache.config import RunConfig
    from rlcache.sweep.space import apply_params, flat_params

    run_config = RunConfig.from_dict(base, "sweep config")
    apply_params(run_config, flat_params(config), "sweep trial")
    run_config.training.verbose = False
    run_config.validate()
    run_dir = Path(runs_root) / tune.get_context().get_trial_name()

    # The trial's folder is locked like any run's: a restarted trial whose previous
    # process is somehow still alive gets an error instead of mixing two runs' files.
    with runs.RunLock(run_dir, flag="sweep trial"):
        checkpoint = tune.get_checkpoint()
        if checkpoint is None:
            _clear_run_dir(run_dir)
            trainer = builders.build_trainer(run_config, run_dir)
        else:
            with checkpoint.as_directory() as folder:
                loaded = runs.load_checkpoint(Path(folder) / "latest.pt")
                trainer = builders.build_trainer(run_config, run_dir, resume=loaded)
        restored = trainer.episode
        attempt = _log_attempt(run_dir, restored)
        fault_at = testing_hooks.fault_at_episode()

        def on_evaluation(entry: dict[str, Any]) -> None:
            _report(trial_metrics(entry, restored, attempt, run_dir), trainer.checkpoint_dir)
            if fault_at and restored == 0 and entry["episode"] >= fault_at:
                os._exit(17)  # a crash for tests: no cleanup, no emergency checkpoint

        trainer.on_evaluation = on_evaluation
        trainer.train()
