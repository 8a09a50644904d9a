"""The run folder: where a run writes, who may write it, and which checkpoint to resume.

One home for what ``rlcache train``, ``rlcache evaluate`` and a sweep trial share:

- **find and verify**: :func:`load_checkpoint` (the one place that says "checkpoint not
  found"), :func:`resolve_resume` (``--resume PATH|auto``), :func:`choose_for_evaluation`
  (a folder means its ``best.pt``);
- **what a checkpoint may decide**: :func:`checkpoint_run_config` marks the embedded
  config's env name as read from a file, and :func:`check_env_name` refuses such a name
  unless it is a registered env (a checkpoint must never make rlcache import a module);
  :func:`check_identity` refuses a resume that would change the run's env, agent or seed;
- **containment**: a run writes only inside its output folder (``training.checkpoint_dir``
  is a plain folder name, see ``TrainingConfig.validate``; :func:`check_contained`
  refuses symlinks and files where the run's folders go);
- **one writer**: :class:`RunLock`, an ``flock`` on ``RUN/.rlcache.lock`` held for the
  whole run; the kernel drops it when the holder dies, so ``--resume auto`` after a
  ``kill -9`` works, while a second live writer gets one line naming the holder's pid.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlcache.config import RL_FROM_ENV, SECTIONS, RunConfig
from rlcache.errors import UserError, checkpoint_not_found

# The run folder's lock lives beside, in runlock.py; it is part of this module's API.
from rlcache.runlock import LOCK_NAME as LOCK_NAME
from rlcache.runlock import RunLock as RunLock

if TYPE_CHECKING:
    from rlcache.training.checkpoint import LoadedCheckpoint

RUN_MARKERS = ("config.yaml", "metrics.json", "logs/training.log")
"""Files whose presence means a folder holds a run."""
RUN_FOLDERS = ("logs", "tensorboard")
"""Folders a run writes besides its checkpoints folder."""
RUN_FILES = ("config.yaml", "metrics.json", "training_curves.png", "logs/training.log")
"""Files a run writes directly in its folder."""
IDENTITY = ("rl.agent_type", "rl.double_q", "rl.dueling", "rl.network", "rl.hidden_sizes",
            "training.seed", "training.checkpoint_dir")
"""Keys (besides the whole ``env:`` section) that a resume may not change."""


# --------------------------------------------------------------------------- output folder


def output_path(output: str | os.PathLike[str] | None, flag: str = "--output") -> Path | None:
    """``--output`` as a Path; refuses an empty value (it would mean the current folder)."""
    if output is None:
        return None
    if not str(output).strip():
        raise UserError(f"{flag}: expected a folder name, got an empty string (use {flag} . "
                        f"for the current folder)")
    return Path(output)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "run"


def default_output_dir(env_name: str, root: str = "results") -> Path:
    """``results/<env>-<YYYYmmdd-HHMMSS>`` (a suffix if that folder exists)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{_slug(env_name)}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def checkpoint_run_dir(path: str | os.PathLike[str], checkpoint_dir: str = "checkpoints") -> Path:
    """The run folder a checkpoint file (or checkpoints folder, or run folder) belongs to."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    if folder.name == checkpoint_dir or ((folder / "latest.json").exists() and
                                         not (folder / checkpoint_dir).is_dir()):
        return folder.parent
    return folder


def holds_run(folder: str | os.PathLike[str], checkpoint_dir: str = "checkpoints") -> bool:
    """True if ``folder`` already holds a run (its config, metrics, log or checkpoints)."""
    root = Path(folder)
    if any((root / marker).exists() for marker in RUN_MARKERS):
        return True
    ckpts = root / checkpoint_dir
    return ckpts.is_dir() and any(p.suffix in (".pt", ".json") for p in ckpts.iterdir())


def check_contained(out_dir: Path, checkpoint_dir: str, flag: str = "--output") -> None:
    """UserError unless every folder and file the run writes lies inside ``out_dir``.

    ``checkpoint_dir`` is already a plain name (TrainingConfig.validate); what is left is
    the folder's own entries: a symlink would send the writes (and the rotation's
    deletions) elsewhere, and a file where a folder goes would fail half-way.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{flag} {out_dir}: exists and is not a folder")
    for name in (checkpoint_dir, *RUN_FOLDERS, *RUN_FILES):
        entry = out_dir / name
        if entry.is_symlink():
            raise UserError(f"{flag} {out_dir}: {name} is a symbolic link; a run writes only "
                            f"inside its own folder (remove the link or choose another {flag})")
        if name in (checkpoint_dir, *RUN_FOLDERS) and entry.exists() and not entry.is_dir():
            raise UserError(f"{flag} {out_dir}: {name} exists and is not a folder")
        if name in RUN_FILES and entry.is_dir():
            raise UserError(f"{flag} {out_dir}: {name} is a folder, where the run writes a file")
    ckpts = out_dir / checkpoint_dir
    if ckpts.is_dir():
        for item in ckpts.iterdir():
            if item.is_symlink():
                raise UserError(f"{flag} {out_dir}: {checkpoint_dir}/{item.name} is a symbolic "
                                f"link; a run writes only inside its own folder")


def check_output_dir(out_dir: Path, loaded: LoadedCheckpoint | None, checkpoint_dir: str,
                     auto: bool) -> None:
    """Refuse to write into a folder holding another run (before anything is written)."""
    check_contained(out_dir, checkpoint_dir)
    if not holds_run(out_dir, checkpoint_dir):
        return
    if loaded is None and auto:
        return  # no save ever completed there (resolve_resume checked): a fresh start
    if loaded is None:
        raise UserError(f"--output {out_dir}: folder already holds a run; resume it with "
                        f"--resume auto or choose another --output")
    run_dir = checkpoint_run_dir(loaded.path, checkpoint_dir)
    if run_dir.resolve() != out_dir.resolve():
        raise UserError(f"--output {out_dir}: folder holds another run than the checkpoint "
                        f"{loaded.path}; choose an empty --output or omit it")


def snapshot(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and mtimes of the files under ``folder`` (the lock file excluded).

    Taken before choosing a checkpoint without the lock and again once it is held: any
    difference means another writer ran in between, and the choice is made again.
    """
    if not folder.is_dir():
        return ()
    found = []
    for path in folder.rglob("*"):
        if path.name == LOCK_NAME:
            continue
        with contextlib.suppress(OSError):
            st = path.lstat()
            found.append((str(path.relative_to(folder)), st.st_size, st.st_mtime_ns))
    return tuple(sorted(found))


# --------------------------------------------------------------------------- checkpoints


def load_checkpoint(path: str | os.PathLike[str], checkpoint_dir: str = "checkpoints",
                    flag: str | None = None) -> LoadedCheckpoint:
    """A verified checkpoint (file, checkpoints folder or run folder; newest intact)."""
    from rlcache.training.checkpoint import load_newest_intact

    if not Path(path).exists():
        raise checkpoint_not_found(path, flag)
    loaded = load_newest_intact(path, checkpoint_dir)
    if not isinstance(loaded.payload.get("run_config"), Mapping):
        raise UserError(f"{loaded.path}: checkpoint has no embedded run config")
    return loaded


def resolve_resume(path_or_auto: str | os.PathLike[str] | None,
                   output_dir: str | os.PathLike[str] | None,
                   checkpoint_dir: str = "checkpoints") -> LoadedCheckpoint | None:
    """The checkpoint to resume from: a path, or ``auto`` (newest intact in the output
    folder, None when no save there ever completed), or None when not resuming."""
    if path_or_auto is None:
        return None
    if str(path_or_auto) == "auto":
        if output_dir is None:
            raise UserError("--resume auto: needs --output DIR, the run folder to resume")
        from rlcache.training.checkpoint import completed_checkpoints

        # A run killed before its first save completed has nothing to lose: start afresh.
        if not completed_checkpoints(Path(output_dir) / checkpoint_dir):
            return None
        return load_checkpoint(output_dir, checkpoint_dir)
    return load_checkpoint(path_or_auto, checkpoint_dir, flag="--resume")


def choose_for_evaluation(path: str | os.PathLike[str], checkpoint_dir: str = "checkpoints",
                          flag: str | None = "--checkpoint") -> tuple[LoadedCheckpoint, str]:
    """The checkpoint ``rlcache evaluate`` judges, and why that one.

    The rule: a file is that file; a run or checkpoints folder means its ``best.pt`` (the
    best evaluation, which ``make train`` evaluates too), or its newest intact checkpoint
    when there is no intact ``best.pt``.
    """
    from rlcache.training.checkpoint import resolve_dir

    target = Path(path)
    if not target.exists():
        raise checkpoint_not_found(path, flag)
    if target.is_dir():
        best = resolve_dir(target, checkpoint_dir) / "best.pt"
        if best.is_file():
            loaded = load_checkpoint(best, checkpoint_dir)
            if loaded.path == best:
                return loaded, "the run's best evaluation"
            return loaded, "newest intact; best.pt is damaged"
        return load_checkpoint(target, checkpoint_dir), "newest intact; the run has no best.pt"
    loaded = load_checkpoint(target, checkpoint_dir)
    if loaded.path != target:
        return loaded, f"newest intact; {target.name} is damaged"
    return loaded, "as given"


CHECKPOINT_SOURCE = "(run config)"


def checkpoint_run_config(loaded: LoadedCheckpoint) -> RunConfig:
    """The resolved config embedded in a checkpoint, as a RunConfig (env name marked as
    read from a file, see :func:`check_env_name`)."""
    return embedded_run_config(loaded.payload["run_config"], loaded.path)


def embedded_run_config(run_config: Mapping[str, Any], path: str | os.PathLike[str]) -> RunConfig:
    """:func:`checkpoint_run_config` of the ``run_config`` read from ``path`` (a checkpoint,
    or its policy twin, which embeds the same)."""
    data = {k: dict(v) if isinstance(v, Mapping) else v for k, v in run_config.items()}
    for name in RL_FROM_ENV:  # a Trainer built without a RunConfig records them
        rl = data.get("rl")
        if isinstance(rl, dict):
            rl.pop(name, None)
    extra = tuple(k for k in data if k not in SECTIONS)
    return RunConfig.from_dict(data, f"{path} {CHECKPOINT_SOURCE}", extra_sections=extra)


def check_env_name(config: RunConfig) -> None:
    """UserError if the env name came from a checkpoint and is not a registered env.

    Gymnasium imports ``module`` for a name ``module:Env``: that is the user's call on
    the command line or in their own YAML, never a file's (checked without importing).
    """
    if not config.env_source.endswith(CHECKPOINT_SOURCE):
        return
    name = config.env_name
    from rlcache.envs.registry import is_registered

    if not is_registered(name):
        raise UserError(f"{config.env_source}: env.name {name!r} is not a registered "
                        f"environment, and a checkpoint may not make rlcache import a module; "
                        f"if you trust it, name the env yourself with --env")


def _lookup(config: dict[str, Any], dotted: str) -> Any:
    section, _, key = dotted.partition(".")
    return config.get(section, {}).get(key)


def _same_value(value: Any) -> Any:
    # Env values are kept as given ("100" from --cache-size, 100 from YAML): compare
    # numbers as numbers.
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, str)):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def check_identity(old: RunConfig, new: RunConfig, flag_names: Mapping[str, str]) -> None:
    """UserError naming every key whose change would make a resume another run."""
    before, after = old.to_dict(), new.to_dict()
    keys = [f"env.{k}" for k in sorted(set(before["env"]) | set(after["env"]))]
    changed = []
    for key in (*keys, *IDENTITY):
        was, now = _lookup(before, key), _lookup(after, key)
        if _same_value(was) != _same_value(now):
            flag = flag_names.get(key)
            changed.append(f"{key} {was!r} -> {now!r}" + (f" ({flag})" if flag else ""))
    if changed:
        raise UserError(f"--resume: cannot change what the run is: {'; '.join(changed)}; "
                        f"drop those options (the checkpoint's values are kept) or start a "
                        f"new run in another --output")


def pin_schedule(run_config: RunConfig, loaded: LoadedCheckpoint) -> RunConfig:
    """Keep a resumed run's epsilon schedule when only its step budget changed."""
    from rlcache.builders import exploration_steps

    old = checkpoint_run_config(loaded)
    fraction = run_config.rl.get("exploration_fraction")
    if fraction is not None and fraction == old.rl.get("exploration_fraction") and \
            run_config.training.max_total_steps != old.training.max_total_steps:
        run_config.rl["exploration_steps"] = exploration_steps(old)
        run_config.rl["exploration_fraction"] = None
    return run_config


def episodes_done(loaded: LoadedCheckpoint) -> int:
    """Training episodes a checkpoint has completed."""
    return int(loaded.meta["episode"])


def finished_reason(loaded: LoadedCheckpoint, run_config: RunConfig) -> str | None:
    """Why resuming ``loaded`` under ``run_config`` would train nothing, or None."""
    episode, steps = int(loaded.meta["episode"]), int(loaded.meta["total_steps"])
    training = run_config.training
    if episode >= training.max_episodes:
        return (f"already at episode {episode} of {training.max_episodes} "
                f"(raise --episodes to continue)")
    if training.max_total_steps is not None and steps >= training.max_total_steps:
        return (f"already at step {steps} of {training.max_total_steps} "
                f"(raise --steps to continue)")
    state = loaded.payload.get("trainer", {})
    if training.early_stopping and state.get("stopped_early"):
        return (f"stopped early at episode {episode} "
                f"(--set training.early_stopping=false to continue)")
    return None


# --------------------------------------------------------------------------- planning a run


@dataclass
class RunPlan:
    """What a ``train`` will do: the resolved config, the checkpoint it resumes, where.

    ``before`` is the folder's :func:`snapshot` taken before the checkpoint was chosen
    (None when the folder was not known then): :func:`writing` compares it once the lock
    is held.
    """

    config: RunConfig
    loaded: LoadedCheckpoint | None
    out_dir: Path
    before: tuple[tuple[str, int, int], ...] | None
    base: RunConfig | None = None
    """The checkpoint's own config (for :func:`check_identity`, once the env is built)."""


def plan_run(config_path: str | os.PathLike[str] | None, sets: Sequence[str],
             flags: Mapping[str, Any], resume: str | None, output: Path | None,
             flag_names: Mapping[str, str]) -> RunPlan:
    """Resolve a train's config, its checkpoint (``--resume``) and its output folder.

    Checks what does not need the env: the output folder (containment, another run in
    it) and a checkpoint's env name. The resume's identity is checked by the caller once
    the env is built, so that an env value the env itself refuses is named as such.
    """
    from rlcache.config import load_run_config

    guess = output
    if guess is None and resume not in (None, "auto"):
        guess = checkpoint_run_dir(str(resume))
    before = snapshot(guess) if guess is not None else None
    loaded = resolve_resume(resume, output)
    base = checkpoint_run_config(loaded) if loaded is not None else None
    config = load_run_config(config_path, sets, flags, base=base, flag_names=flag_names)
    check_env_name(config)
    out_dir = output
    if loaded is not None:
        pin_schedule(config, loaded)
        if out_dir is None:
            out_dir = checkpoint_run_dir(loaded.path, config.training.checkpoint_dir)
    if out_dir is None:
        out_dir = default_output_dir(config.env_name)
    if out_dir != guess:
        before = None
    check_output_dir(out_dir, loaded, config.training.checkpoint_dir, resume == "auto")
    return RunPlan(config, loaded, out_dir, before, base)


@contextlib.contextmanager
def writing(plan: RunPlan, replan: Callable[[Path], RunPlan]) -> Iterator[RunPlan]:
    """Hold the run folder's lock; the plan is made again under it if the folder changed.

    ``replan(out_dir)`` repeats :func:`plan_run` for the same folder: without the lock,
    another writer may have saved (or finished) since the checkpoint was chosen.
    """
    with RunLock(plan.out_dir):
        if plan.before is None or snapshot(plan.out_dir) != plan.before:
            plan = replan(plan.out_dir)
        yield plan
