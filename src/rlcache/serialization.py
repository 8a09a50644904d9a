"""Atomic, verifiable files: the one place that writes and reads torch payloads.

Every write goes to a temporary file in the destination folder, is flushed and
fsynced, then renamed over the target, so a crash at any instant leaves either the
old file or the new one, never a torn one. Every read uses
``torch.load(weights_only=True)``: plain tensors, numbers, strings, lists and dicts.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

from rlcache import testing_hooks
from rlcache.errors import UserError


class UnsafePayloadError(UserError):
    """A file that would need pickle (arbitrary code) to load."""


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry itself is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def stage_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a temp file beside ``path``, flushed and fsynced; return it.

    The first half of an atomic write: a failure here (ENOSPC, EIO) removes the temp
    file and leaves ``path`` as it was. :func:`commit` renames the temp file into place.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def discard(tmp: str | os.PathLike[str]) -> None:
    """Remove a staged temp file that will not be committed."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)


def commit(tmp: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Rename a staged temp file over ``path`` (atomic) and make the rename durable."""
    target = Path(path)
    try:
        delay = testing_hooks.slow_write_seconds()
        if delay:
            time.sleep(delay)
        os.replace(tmp, target)
    except BaseException:
        # Whatever went wrong (a signal), the old file stays as it was.
        discard(tmp)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename)."""
    commit(stage_bytes(path, data), path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def dumps(obj: Any) -> bytes:
    """Serialise a weights-only-safe object to bytes."""
    import torch  # here, not at import: reading checkpoint metadata needs no torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def atomic_torch_save(obj: Any, path: str | os.PathLike[str]) -> str:
    """Save ``obj`` atomically with torch.save and return the file's SHA-256."""
    data = dumps(obj)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's contents."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def safe_torch_load(path: str | os.PathLike[str]) -> Any:
    """Load a file with ``weights_only=True``; refuse anything that needs pickle."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights_only" in str(exc) or "Unsupported" in str(exc) or "global" in str(exc):
            raise UnsafePayloadError(
                f"{path}: refused, the file needs pickle to load (only plain tensors, "
                f"numbers, strings, lists and dicts are accepted): {first}"
            ) from None
        raise UserError(f"{path}: not a readable checkpoint ({first})") from None
    except (RuntimeError, EOFError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: not a readable checkpoint ({first})") from None
