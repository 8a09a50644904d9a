"""Progress display (bar and plain lines), duration formatting, training curves."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from rlcache.training.plots import moving_average, plot_training_curves
from rlcache.training.progress import ProgressReporter, format_duration

from .conftest import script


def test_format_duration() -> None:
    assert format_duration(None) == "?"
    assert format_duration(5.4) == "5s"
    assert format_duration(125) == "2m05s"
    assert format_duration(3723) == "1h02m03s"


def test_eta_uses_the_budget_closest_to_done() -> None:
    rep = ProgressReporter(max_episodes=100, max_total_steps=1000, start_episode=0,
                           start_steps=0, log_frequency=10, verbose=False, use_bar=False)
    rep.started -= 10.0  # 10 s elapsed
    assert rep.eta(0, 0) is None
    # 10 of 100 episodes (90 s left) but 500 of 1000 steps (10 s left): the steps win.
    assert abs(rep.eta(10, 500) - 10.0) < 0.5
    rep.close()


def test_plain_progress_lines_with_elapsed_and_eta(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="rlcache"):
        script.build(tmp_path / "run", 10, verbose=True).train()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Episode ")]
    assert len(lines) == 2 and "elapsed" in lines[0] and "ETA" in lines[0]
    log = (tmp_path / "run" / "logs" / "training.log").read_text()
    assert "Episode 10 |" in log and "Checkpoint latest" in log and "saved" in log


def test_rich_bar_on_a_terminal(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    trainer = script.build(tmp_path / "run", 8, verbose=True)
    trainer.train()
    log = (tmp_path / "run" / "logs" / "training.log").read_text()
    assert "Training finished: 8 episodes" in log
    assert "Episode " not in log  # the bar replaces the plain progress lines


def test_moving_average_and_plot_with_gaps(tmp_path: Path) -> None:
    assert moving_average([1, 2, 3, 4], 2).tolist() == [1.0, 1.5, 2.5, 3.5]
    metrics = {"episode_rewards": [1.0, 2.0, 3.0], "losses": [None, 0.5, 0.25],
               "epsilons": [1.0, 0.9, 0.8], "evaluations": []}
    out = plot_training_curves(metrics, tmp_path / "curves.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    empty = plot_training_curves({}, tmp_path / "empty.png")
    assert empty.stat().st_size > 0


def test_the_curves_are_drawn_once_per_state(tmp_path: Path) -> None:
    """plot_frequency 5 over 10 episodes: drawn at 5 and 10; the end of the run would
    draw episode 10 again, and does not. The PNG is still there and current."""
    import rlcache.training.plots as plots

    trainer = script.build(tmp_path / "run", 10, plot_frequency=5)
    drawn: list[int] = []
    real = plots.plot_training_curves

    def counting(metrics, path, *args, **kwargs):
        drawn.append(len(metrics["episode_rewards"]))
        return real(metrics, path, *args, **kwargs)

    plots.plot_training_curves = counting
    try:
        trainer.train()
        assert drawn == [5, 10]
        png = tmp_path / "run" / "training_curves.png"
        assert png.read_bytes()[:4] == b"\x89PNG"
        png.unlink()  # gone: the next call draws it again
        assert trainer.plot_training_curves() == png and drawn == [5, 10, 10]
    finally:
        plots.plot_training_curves = real
