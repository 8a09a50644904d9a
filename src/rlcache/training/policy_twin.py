"""A checkpoint's torch-free twin: ``best.pt`` / ``latest.pt``'s policy as a policy file.

When the Trainer saves ``best`` or ``latest`` of a cache-env agent with a candidate
scorer, it also writes ``best.policy.npz`` (the format of :mod:`rlcache.policy.file`, as
``rlcache export`` writes it) whose metadata carries the SHA-256 of the ``.pt`` it came
from. ``rlcache evaluate -k`` replays from the twin when it stands for the very ``.pt``
it would load (that ``.pt`` intact, its JSON's hash the twin's), so evaluating imports
no torch. The twin is written after the ``.pt`` and its JSON, atomically (temp file,
fsync, rename, cleared as a stale temporary like theirs); a crash in between leaves the
previous twin, whose hash no longer matches, and the reader falls back to the ``.pt``.
Nothing here imports torch.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rlcache.errors import UserError
from rlcache.serialization import sha256_file
from rlcache.training.checkpoint import read_meta, resolve_dir

logger = logging.getLogger("rlcache")

SUFFIX = ".policy.npz"
KINDS = ("best", "latest")


def twin_path(pt: Path) -> Path:
    """``best.pt`` -> ``best.policy.npz``."""
    return pt.with_name(pt.stem + SUFFIX)


def has_twin(payload: dict[str, Any]) -> bool:
    """Whether a checkpoint of this payload gets a twin: a cache-env candidate scorer."""
    env = (payload.get("run_config") or {}).get("env") or {}
    return (env.get("name") == "cache"
            and payload["agent"]["config"].get("network") == "candidate")


def write_twins(paths: list[Path], payload: dict[str, Any]) -> list[Path]:
    """The twins of the ``best`` / ``latest`` slots among the just written ``paths``.

    A failure (a full disk) is logged, never raised: the ``.pt`` is safe, and the old
    twin, if any, no longer matches it, so the reader uses the ``.pt``.
    """
    from rlcache.policy.convert import policy_from_checkpoint
    from rlcache.policy.file import save_policy

    written = []
    for pt in paths:
        if pt.stem not in KINDS or not has_twin(payload):
            continue
        try:
            arrays, meta = policy_from_checkpoint(payload, read_meta(pt), str(pt))
            save_policy(twin_path(pt), arrays, meta)
        except (OSError, ValueError, UserError) as exc:
            logger.warning("Could not write %s (%s); rlcache evaluate reads %s instead",
                           twin_path(pt).name, exc, pt.name)
            continue
        written.append(twin_path(pt))
    return written


def evaluation_twin(target: str | Path,
                    checkpoint_dir: str = "checkpoints") -> tuple[Path, str, Any] | None:
    """``(pt, why, policy)`` when ``runs.choose_for_evaluation(target)`` would choose an
    intact ``pt`` whose twin stands for it, else None (the caller loads the ``.pt``).

    Only the rule's plain cases: a file as given, a folder's intact ``best.pt``; a
    damaged or torn file, or a folder without ``best.pt``, goes the ``.pt`` way.
    """
    from rlcache.policy import load_policy

    path = Path(target)
    if path.is_dir():
        pt, why = resolve_dir(path, checkpoint_dir) / "best.pt", "the run's best evaluation"
    else:
        pt, why = path, "as given"
    twin = twin_path(pt)
    if not (pt.is_file() and twin.is_file()):
        return None
    try:  # a torn save (new .pt, old JSON) fails the hash too: the .pt way
        digest = read_meta(pt)["sha256"]
        if sha256_file(pt) != digest:
            return None
        policy = load_policy(str(twin))
    except (OSError, ValueError, UserError):
        return None
    if policy.meta.get("training", {}).get("checkpoint_sha256") != digest:
        return None
    return pt, why, policy
