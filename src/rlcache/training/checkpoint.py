"""Checkpoint files: write, verify, find the newest intact one, rotate.

Layout, in ``RUN/checkpoints``::

    best.pt + best.json, latest.pt + latest.json, checkpoint_ep{N}.pt + .json,
    emergency.pt + emergency.json

Each ``.pt`` is written atomically (``serialization``); the ``.json`` beside it is
written last, atomically, and carries the SHA-256 of the ``.pt``. A reader trusts a
``.pt`` only if its JSON exists, parses, and its hash matches, or, for a save killed
between its two renames, if the save's staged JSON matches it (rolled forward by the
next training process, see :func:`finish_torn_saves`). Payloads are loaded with
``weights_only=True``; one that needs pickle is refused outright (never fallen back from,
since it means the folder was tampered with).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlcache
from rlcache.errors import UserError, checkpoint_not_found
from rlcache.serialization import (
    UnsafePayloadError,
    commit,
    discard,
    dumps,
    safe_torch_load,
    sha256_file,
    stage_bytes,
)

logger = logging.getLogger("rlcache")

META_KEYS = ("kind", "episode", "total_steps", "eval_reward", "best_eval_reward",
             "timestamp", "sha256", "rlcache_version")
"""Keys every checkpoint JSON carries (contract); ``exact`` is added beside them."""

KINDS = ("best", "latest", "regular", "emergency")
_REGULAR = re.compile(r"^checkpoint_ep(\d+)$")
# Among checkpoints of the same state, which one to name when several are equivalent.
_PRIORITY = {"latest": 3, "emergency": 2, "regular": 1, "best": 0}


def stem_for(kind: str, episode: int) -> str:
    """File stem of a checkpoint slot: ``latest``, ``best``, ``checkpoint_ep{N}``..."""
    if kind not in KINDS:
        raise ValueError(f"unknown checkpoint kind {kind!r}")
    return f"checkpoint_ep{episode}" if kind == "regular" else kind


def write_checkpoint(ckpt_dir: str | os.PathLike[str], kinds: list[str],
                     payload: dict[str, Any], meta: dict[str, Any]) -> tuple[list[Path], float]:
    """Serialise ``payload`` once and write it into each slot of ``kinds``.

    ``meta`` holds the JSON fields except ``kind``, ``sha256``, ``timestamp`` and
    ``rlcache_version``, which are filled in here. Slot by slot, the ``.pt`` and its JSON
    are both written to temp files, then the ``.pt`` is renamed into place and the JSON
    last. A write error (ENOSPC) leaves every slot's old pair as it was; a crash at any
    instant leaves at most one slot torn (new ``.pt``, old JSON), every other slot a
    consistent pair, old or new. (Writing
    all ``.pt`` files before any JSON would tear every slot of the save at once; when
    those are all the slots there are, e.g. ``latest`` + ``best`` before the first
    regular checkpoint, nothing intact would be left.) Returns the ``.pt`` paths and the
    seconds the whole save took.
    """
    start = time.perf_counter()
    folder = Path(ckpt_dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = dumps(payload)
    digest = hashlib.sha256(data).hexdigest()
    episode = int(meta["episode"])
    paths = [folder / f"{stem_for(kind, episode)}.pt" for kind in kinds]
    timestamp = _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")
    for kind, path in zip(kinds, paths, strict=True):
        record = {"kind": kind, **meta, "timestamp": timestamp, "sha256": digest,
                  "rlcache_version": rlcache.__version__}
        text = json.dumps(record, indent=2) + "\n"
        # Both files are written in full (and fsynced) before either is renamed into
        # place: a full disk or an I/O error fails here and leaves the slot's old pair
        # untouched. Only a crash between the two renames can tear the slot.
        tmp_pt = stage_bytes(path, data)
        try:
            tmp_json = stage_bytes(path.with_suffix(".json"), text.encode("utf-8"))
        except BaseException:
            discard(tmp_pt)
            raise
        try:
            commit(tmp_pt, path)
        except BaseException:
            discard(tmp_json)
            raise
        commit(tmp_json, path.with_suffix(".json"))
    return paths, time.perf_counter() - start


def read_meta(pt_path: Path) -> dict[str, Any]:
    """The JSON beside ``pt_path``; ValueError with a reason if missing or malformed."""
    json_path = pt_path.with_suffix(".json")
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"its metadata {json_path.name} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"its metadata {json_path.name} is unreadable ({exc})") from None
    if not isinstance(meta, dict) or any(key not in meta for key in META_KEYS):
        raise ValueError(f"its metadata {json_path.name} lacks the fields "
                         f"{', '.join(META_KEYS)}")
    if not isinstance(meta["total_steps"], int) or not isinstance(meta["episode"], int):
        raise ValueError(f"its metadata {json_path.name} has non-integer counters")
    return meta


def _staged_meta(pt_path: Path) -> tuple[Path, dict[str, Any]] | None:
    """The staged JSON of a save killed after renaming ``pt_path`` into place, if any.

    ``write_checkpoint`` writes and fsyncs both files before renaming either, so a kill
    between the ``.pt`` rename and the JSON rename leaves the new ``.pt`` beside the old
    JSON (or none) and the complete new JSON as ``.<stem>.json.XXXX.tmp``. The save's data
    is in place; only its metadata's rename is missing. Hashes the ``.pt`` only when such
    a temp file exists (rare: after a kill).
    """
    staged = sorted(pt_path.parent.glob(f".{pt_path.stem}.json.*.tmp"))
    if not staged:
        return None
    try:
        digest = sha256_file(pt_path)
    except OSError:
        return None
    for tmp in staged:
        try:
            meta = json.loads(tmp.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if (isinstance(meta, dict) and all(key in meta for key in META_KEYS)
                and meta["sha256"] == digest):
            return tmp, meta
    return None


def slot_meta(pt_path: Path) -> dict[str, Any]:
    """The metadata of ``pt_path``'s slot: its JSON, or its torn save's staged JSON."""
    staged = _staged_meta(pt_path)
    return staged[1] if staged is not None else read_meta(pt_path)


def finish_torn_saves(ckpt_dir: Path) -> list[Path]:
    """Roll forward saves killed between their two renames; return the slots finished.

    Without this, a slot torn by one kill stays damaged, and a second kill that tears
    another slot can leave no intact checkpoint at all. Call before
    :func:`remove_stale_temporaries`, which would delete the staged JSON.
    """
    finished = []
    for pt in checkpoint_files(ckpt_dir):
        staged = _staged_meta(pt)
        if staged is not None:
            commit(staged[0], pt.with_suffix(".json"))
            finished.append(pt)
    return finished


def checkpoint_files(ckpt_dir: Path) -> list[Path]:
    """All ``.pt`` files in ``ckpt_dir`` (temporary files excluded)."""
    if not ckpt_dir.is_dir():
        return []
    return sorted(p for p in ckpt_dir.glob("*.pt") if not p.name.startswith("."))


def completed_checkpoints(ckpt_dir: Path) -> list[Path]:
    """``.pt`` files whose JSON exists, i.e. whose save got to its last step.

    A ``.pt`` without its JSON is what a crash during a checkpoint's first save leaves
    behind; it was never a checkpoint (its JSON comes last), so it does not make a
    folder hold a run, unless the save's staged JSON matches it (see ``_staged_meta``).
    """
    return [p for p in checkpoint_files(ckpt_dir)
            if p.with_suffix(".json").is_file() or _staged_meta(p) is not None]


def intact_checkpoints(ckpt_dir: Path) -> list[Path]:
    """``.pt`` files whose JSON parses and whose SHA-256 matches it (nothing unpickled)."""
    intact = []
    for pt in checkpoint_files(ckpt_dir):
        try:
            if sha256_file(pt) == slot_meta(pt)["sha256"]:
                intact.append(pt)
        except (OSError, ValueError):
            continue
    return intact


def regular_checkpoints(ckpt_dir: Path) -> list[tuple[int, Path]]:
    """``(episode, path)`` of every ``checkpoint_ep{N}.pt``, oldest first."""
    found = []
    for path in checkpoint_files(ckpt_dir):
        match = _REGULAR.match(path.stem)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def rotate(ckpt_dir: Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` regular checkpoints; return those deleted.

    Call only after the newest one is safely written. The ``.pt`` goes first so that a
    crash in between leaves at worst a stray JSON, which readers ignore.
    """
    regular = regular_checkpoints(ckpt_dir)
    doomed = [path for _, path in regular[:-keep_last]] if keep_last > 0 else []
    for path in doomed:
        for victim in (path, path.with_suffix(".json")):
            with contextlib.suppress(FileNotFoundError):
                victim.unlink()
    return doomed


def finish_interrupted_saves(ckpt_dir: Path) -> list[Path]:
    """What the run's writer does first: roll torn saves forward, then drop temp files."""
    finished = finish_torn_saves(ckpt_dir)
    remove_stale_temporaries(ckpt_dir)
    return finished


def remove_stale_temporaries(ckpt_dir: Path) -> None:
    """Delete temp files a killed writer left behind (``.name.XXXX.tmp``)."""
    if ckpt_dir.is_dir():
        for tmp in ckpt_dir.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()


def resolve_dir(path: Path, checkpoint_dir: str = "checkpoints") -> Path:
    """A run folder or a checkpoints folder -> the checkpoints folder."""
    sub = path / checkpoint_dir
    if sub.is_dir():
        return sub
    return path


@dataclass
class LoadedCheckpoint:
    """A verified, loaded checkpoint."""

    path: Path
    meta: dict[str, Any]
    payload: dict[str, Any]


def _verify_and_load(pt_path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Check the hash, then load weights-only. ValueError for a damaged file."""
    try:
        actual = sha256_file(pt_path)
    except FileNotFoundError:
        raise ValueError("the file is missing") from None
    except OSError as exc:
        raise ValueError(f"it cannot be read ({exc})") from None
    if actual != meta["sha256"]:
        raise ValueError(f"its SHA-256 {actual[:12]}... does not match "
                         f"{str(meta['sha256'])[:12]}... in {pt_path.with_suffix('.json').name}")
    try:
        payload = safe_torch_load(pt_path)
    except UnsafePayloadError:
        raise
    except UserError as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(payload, dict) or "agent" not in payload or "trainer" not in payload:
        raise ValueError("it is not an rlcache training checkpoint")
    return payload


def load_newest_intact(path: str | os.PathLike[str],
                       checkpoint_dir: str = "checkpoints") -> LoadedCheckpoint:
    """Load ``path`` if intact, else the newest intact checkpoint beside it.

    ``path`` may be a ``.pt`` file, a checkpoints folder or a run folder. A folder yields
    its newest intact checkpoint, by ``total_steps`` then ``episode``. Every file skipped
    is named in a warning along with the one used. None intact: UserError. A payload
    that needs pickle: UnsafePayloadError (a UserError), no fallback.
    """
    target = Path(path)
    if not target.exists():
        raise checkpoint_not_found(target)
    skipped: list[tuple[Path, str]] = []
    first: Path | None = None
    if target.is_dir():
        folder = resolve_dir(target, checkpoint_dir)
    else:
        folder = target.parent
        first = target

    ranked: list[tuple[tuple[int, int, int], Path, dict[str, Any]]] = []
    first_meta: dict[str, Any] | None = None
    if first is not None:
        try:
            first_meta = slot_meta(first)
        except ValueError as exc:
            skipped.append((first, str(exc)))
    for pt in checkpoint_files(folder):
        if first is not None and pt.resolve() == first.resolve():
            continue
        try:
            meta = slot_meta(pt)
        except ValueError as exc:
            skipped.append((pt, str(exc)))
            continue
        key = (meta["total_steps"], meta["episode"], _PRIORITY.get(meta.get("kind"), -1))
        ranked.append((key, pt, meta))
    ranked.sort(key=lambda item: item[0], reverse=True)
    order = [(pt, meta) for _, pt, meta in ranked]
    if first is not None and first_meta is not None:
        order.insert(0, (first, first_meta))

    # Every file skipped (bad JSON, bad hash, unreadable) is named with the one used.
    for pt, meta in order:
        try:
            payload = _verify_and_load(pt, meta)
        except ValueError as exc:
            skipped.append((pt, str(exc)))
            continue
        for bad, reason in skipped:
            logger.warning("Checkpoint %s is not usable: %s; using %s instead", bad, reason, pt)
        return LoadedCheckpoint(path=pt, meta=meta, payload=payload)
    if skipped:
        details = "; ".join(f"{bad.name}: {reason}" for bad, reason in skipped)
        raise UserError(f"{target}: no intact checkpoint ({details})")
    raise UserError(f"{target}: no checkpoint (.pt with its .json) found")
