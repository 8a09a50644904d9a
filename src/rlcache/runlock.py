"""The run folder's lock: one writer per run folder, released by the kernel if it dies.

Part of :mod:`rlcache.runs` (which re-exports it), kept apart for its size.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from rlcache.errors import UserError

LOCK_NAME = ".rlcache.lock"
"""The writer's lock file, inside the run folder (removed when the writer ends)."""


def _read_holder(fd: int) -> str:
    for _ in range(20):  # the holder writes its pid right after locking: wait a moment
        with contextlib.suppress(OSError):
            text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            if text:
                return text
        time.sleep(0.01)
    return "unknown"


@dataclass
class RunLock:
    """An exclusive ``flock`` on ``FOLDER/.rlcache.lock`` for the run's one writer.

    Creates the folder if needed; on release, removes the lock file and the folders it
    created if they are still empty, so a run refused before writing leaves nothing.
    """

    folder: Path
    flag: str = "--output"
    _fd: int | None = field(default=None, init=False, repr=False)
    _created: list[Path] = field(default_factory=list, init=False, repr=False)

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.folder / LOCK_NAME

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or UserError naming the pid that holds it (nothing changed)."""
        self._make_folder()
        try:
            self._fd = self._lock()
        except BaseException:
            self._remove_created()
            raise
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def _make_folder(self) -> None:
        missing = []
        for parent in (self.folder, *self.folder.parents):
            if parent.exists() or parent.is_symlink():
                break
            missing.append(parent)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{self.flag} {self.folder}: cannot create the run folder "
                            f"({exc.strerror or exc})") from None
        self._created = list(reversed(missing))

    def _lock(self) -> int:
        # The lock file is removed by each writer as it ends: a file opened just before
        # that removal may be locked after it, so check the path still names our file.
        for _ in range(100):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise UserError(f"{self.flag} {self.folder}: cannot write in the run folder "
                                f"({exc.strerror or exc})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    os.close(fd)
                    raise
                holder = _read_holder(fd)
                os.close(fd)
                raise UserError(f"{self.flag} {self.folder}: run folder is in use by another "
                                f"rlcache process (pid {holder}); wait for it to end or "
                                f"choose another {self.flag}") from None
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)
        raise UserError(f"{self.flag} {self.folder}: cannot take the run folder's lock")

    def release(self) -> None:
        """Drop the lock, remove its file, and the folders created if still empty."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)  # while still locked, so no one else holds this file
        os.close(self._fd)
        self._fd = None
        self._remove_created()

    def _remove_created(self) -> None:
        for folder in reversed(self._created):
            try:
                folder.rmdir()
            except OSError:
                break
        self._created = []
