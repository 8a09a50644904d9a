"""Console and file logging for a run, and the progress display.

``setup_logging`` adds handlers to the ``rlcache`` logger for the duration of a run and
returns a callable that removes exactly those handlers again (tests build many trainers
in one process). On a terminal, when verbose, a rich progress bar shows episode, reward,
last evaluation, epsilon, elapsed time and ETA; elsewhere a plain line is logged every
``log_frequency`` episodes with the same figures.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOGGER_NAME = "rlcache"
_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def setup_logging(log_file: Path, verbose: bool,
                  console_handler: logging.Handler | None = None) -> Callable[[], None]:
    """File handler (append) on ``log_file`` plus a console handler; returns the undo."""
    logger = logging.getLogger(LOGGER_NAME)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    file_handler.setLevel(logging.INFO)
    if console_handler is None:
        console_handler = logging.StreamHandler(sys.stdout)
        console_handler.setFormatter(logging.Formatter("%(message)s"))
    console_handler.setLevel(logging.INFO if verbose else logging.WARNING)
    added = [file_handler, console_handler]
    for handler in added:
        logger.addHandler(handler)
    old_level = logger.level
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)

    def undo() -> None:
        for handler in added:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(old_level)

    return undo


def format_duration(seconds: float | None) -> str:
    """``1h02m03s`` style; ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class ProgressReporter:
    """Progress over episodes (and a step budget if any), as a bar or as log lines.

    ETA: from this session's rate, over whichever budget (episodes or steps) is
    closer to being used up.
    """

    def __init__(self, *, max_episodes: int, max_total_steps: int | None, start_episode: int,
                 start_steps: int, log_frequency: int, verbose: bool,
                 use_bar: bool | None = None) -> None:
        self.max_episodes = max_episodes
        self.max_total_steps = max_total_steps
        self.start_episode = start_episode
        self.start_steps = start_steps
        self.log_frequency = log_frequency
        self.verbose = verbose
        self.started = time.perf_counter()
        self.logger = logging.getLogger(LOGGER_NAME)
        if use_bar is None:
            use_bar = verbose and sys.stdout.isatty()
        self._bar: Any = None
        self._task: Any = None
        self.console_handler: logging.Handler | None = None
        if use_bar:
            self._start_bar()

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.logging import RichHandler
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console()
        self._bar = Progress(
            TextColumn("[bold]ep {task.completed:.0f}/{task.total:.0f}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            console=console, transient=False,
        )
        self._task = self._bar.add_task("train", total=self.max_episodes,
                                        completed=self.start_episode, info="", eta="?")
        self.console_handler = RichHandler(console=console, show_path=False,
                                           show_time=False, markup=False)
        self._bar.start()

    def eta(self, episode: int, total_steps: int) -> float | None:
        """Seconds left at this session's rate, or None before any progress."""
        elapsed = time.perf_counter() - self.started
        fractions = []
        done_eps = episode - self.start_episode
        if done_eps > 0:
            fractions.append((self.max_episodes - episode) / done_eps)
        done_steps = total_steps - self.start_steps
        if self.max_total_steps is not None and done_steps > 0:
            fractions.append((self.max_total_steps - total_steps) / done_steps)
        if not fractions:
            return None
        return max(0.0, min(fractions) * elapsed)

    def update(self, episode: int, total_steps: int, reward: float, epsilon: float,
               last_eval: float | None, elapsed_total: float) -> None:
        """Called once per episode: refresh the bar, or log every ``log_frequency``."""
        if self._bar is not None:
            info = (f"R {reward:.1f}  eval {format_score(last_eval)}  eps {epsilon:.3f}  "
                    f"steps {total_steps}")
            self._bar.update(self._task, completed=episode, info=info,
                             eta=format_duration(self.eta(episode, total_steps)))
            return
        if episode % self.log_frequency == 0:
            self.logger.info(
                "Episode %d | steps %d | reward %.2f | last eval %s | epsilon %.3f | "
                "elapsed %s | ETA %s", episode, total_steps, reward, format_score(last_eval),
                epsilon, format_duration(elapsed_total),
                format_duration(self.eta(episode, total_steps)))

    def close(self) -> None:
        """Stop the bar (if any)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def format_score(value: float | None) -> str:
    """A reward to two decimals; ``-`` when there is none yet."""
    return "-" if value is None else f"{value:.2f}"
