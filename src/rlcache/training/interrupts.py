"""What the Trainer does on SIGINT / SIGTERM and on an exception mid-run.

A signal only sets a flag (:class:`SignalFlag`); the loop finishes the episode, then
:func:`stop_for_signal` writes the emergency (and latest) checkpoint and exits with
128 + signal. A second Ctrl-C interrupts at once. An exception in the loop leaves an
emergency checkpoint of the state at that instant (:func:`save_after_exception`).
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from rlcache.training.trainer import Trainer

logger = logging.getLogger("rlcache")


class SignalFlag:
    """SIGINT and SIGTERM handlers that record the first signal (main thread only)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] | None = None

    def install(self) -> None:
        """Take over SIGINT and SIGTERM until :meth:`restore` (a no-op off the main thread)."""
        self.signum = None
        if threading.current_thread() is not threading.main_thread():
            self._old = None
            return
        self._old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT,
                                                                   signal.SIGTERM)}

    def restore(self) -> None:
        """Put the previous handlers back."""
        for signum, handler in (self._old or {}).items():
            signal.signal(signum, handler)
        self._old = None

    def _on_signal(self, signum: int, frame: Any) -> None:
        # Only set a flag; the loop acts on it at the end of the episode. A second
        # Ctrl-C means "now".
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signum is None:
            self.signum = signum


def stop_for_signal(trainer: Trainer, signum: int) -> NoReturn:
    """Write the emergency checkpoint (and latest, if behind) and exit with 128 + signum."""
    name = signal.Signals(signum).name
    logger.warning("%s received: episode %d finished, writing the emergency checkpoint",
                   name, trainer.episode)
    kinds = ["emergency"]
    if trainer._latest_at != (trainer.episode, trainer.total_steps):
        kinds.append("latest")
    paths = trainer._save_checkpoint(kinds)
    logger.warning("Stopped by %s; resume from %s", name, paths[0])
    raise SystemExit(128 + signum)


def save_after_exception(trainer: Trainer, exc: BaseException) -> None:
    """Leave an emergency checkpoint of the state at the failure (marked not exact)."""
    try:
        paths = trainer._save_checkpoint("emergency", exact=False)
    except Exception as save_exc:
        logger.error("Training failed at episode %d (%s: %s); the emergency checkpoint "
                     "could not be written: %s", trainer.episode, type(exc).__name__, exc,
                     save_exc)
        return
    logger.error("Training failed at episode %d (%s: %s); emergency checkpoint %s "
                 "written (state at the failure, not exact)", trainer.episode,
                 type(exc).__name__, exc, paths[0])
