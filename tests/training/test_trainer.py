"""The Trainer end to end: exact resume, early stopping, evaluation, refusal, failures."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from rlcache.errors import UserError
from rlcache.training import Trainer

from .conftest import REF_EPISODES, assert_same_agent, load_metrics, script

METRIC_KEYS = {"episode_rewards", "episode_lengths", "losses", "epsilons", "q_values",
               "evaluations", "total_episodes", "total_steps", "best_eval_reward",
               "elapsed_seconds", "stopped_early"}
EVAL_KEYS = {"episode", "total_steps", "mean_reward", "std_reward", "min_reward",
             "max_reward"}


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, hash(p.read_bytes()))
            for p in folder.rglob("*") if p.is_file()}


def test_metrics_json_contract(reference_run) -> None:
    run = reference_run[0]
    data = json.loads((run / "metrics.json").read_text())
    assert set(data) == METRIC_KEYS
    n = data["total_episodes"]
    assert n == REF_EPISODES
    for key in ("episode_rewards", "episode_lengths", "losses", "epsilons", "q_values"):
        assert len(data[key]) == n
    assert data["losses"][0] is None and data["losses"][-1] is not None  # learning_starts
    assert data["total_steps"] == sum(data["episode_lengths"])
    assert [e["episode"] for e in data["evaluations"]] == [6, 12, 18, 24]
    for entry in data["evaluations"]:
        assert set(entry) == EVAL_KEYS
    assert data["best_eval_reward"] == max(e["mean_reward"] for e in data["evaluations"])
    assert data["stopped_early"] is False
    assert max(data["episode_lengths"]) <= 40


def test_resume_mid_run_equals_one_go_on_mock(reference_run, tmp_path: Path) -> None:
    ref_dir, ref = reference_run
    out = tmp_path / "split"
    script.build(out, 10).train()  # stops between evaluation and checkpoint boundaries
    resumed = script.build(out, REF_EPISODES)
    resumed.load_checkpoint(out / "checkpoints" / "latest.pt")
    resumed.train()
    assert load_metrics(out) == load_metrics(ref_dir)
    assert_same_agent(resumed.agent, ref.agent)


def test_resume_from_a_regular_checkpoint_equals_one_go(reference_run, tmp_path: Path) -> None:
    ref_dir, ref = reference_run
    out = tmp_path / "run"
    shutil.copytree(ref_dir, out)
    resumed = script.build(out, REF_EPISODES)
    from rlcache.training import load_newest_intact

    resumed.load_checkpoint(load_newest_intact(out / "checkpoints" / "checkpoint_ep20.pt"))
    assert resumed.episode == 20
    resumed.train()
    assert load_metrics(out) == load_metrics(ref_dir)
    assert_same_agent(resumed.agent, ref.agent)


def test_resume_equals_one_go_on_cartpole(tmp_path: Path) -> None:
    one_go = script.build(tmp_path / "a", 16, "cartpole")
    one_go.train()
    script.build(tmp_path / "b", 7, "cartpole").train()
    resumed = script.build(tmp_path / "b", 16, "cartpole")
    resumed.load_checkpoint(tmp_path / "b")
    resumed.train()
    assert load_metrics(tmp_path / "a") == load_metrics(tmp_path / "b")
    assert_same_agent(one_go.agent, resumed.agent)
    assert load_metrics(tmp_path / "a")["losses"][-1] is not None


def test_fresh_run_refuses_used_output(reference_run, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(reference_run[0], out)
    before = _files(out)
    with pytest.raises(UserError, match=r"holds another run \(checkpoints in .*\); pass --resume"):
        script.build(out, REF_EPISODES).train()
    assert _files(out) == before


def test_evaluate_only_reports_and_touches_nothing(reference_run, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(reference_run[0], out)
    trainer = script.build(out, REF_EPISODES)
    trainer.load_checkpoint(out)
    before = _files(out)
    counters = trainer.agent.get_metrics()
    stats = trainer.evaluate_only(num_episodes=3)
    again = trainer.evaluate_only(num_episodes=3)
    assert stats["episodes"] == 3 and len(stats["rewards"]) == 3
    assert stats["min_reward"] <= stats["mean_reward"] <= stats["max_reward"]
    assert stats == again  # fixed seeds, greedy: evaluations are comparable
    assert trainer.agent.get_metrics() == counters
    assert _files(out) == before


@pytest.mark.parametrize(("min_episodes", "stop_at"), [(4, 6), (5, 8)])
def test_early_stopping_counts_evaluations_after_min_episodes(
        tmp_path: Path, min_episodes: int, stop_at: int) -> None:
    # min_delta is huge, so only the first evaluation (episode 2) improves; patience 2.
    settings = {"eval_frequency": 2, "patience": 2, "min_episodes": min_episodes,
                "min_delta": 1e9}
    trainer = script.build(tmp_path / "a", 50, **settings)
    stats = trainer.train()
    assert stats["stopped_early"] and stats["total_episodes"] == stop_at
    data = load_metrics(tmp_path / "a")
    assert data["stopped_early"] is True
    assert [e["episode"] for e in data["evaluations"]] == list(range(2, stop_at + 1, 2))

    # Interrupted one episode before the stop, the count survives the resume.
    script.build(tmp_path / "b", stop_at - 1, **settings).train()
    resumed = script.build(tmp_path / "b", 50, **settings)
    resumed.load_checkpoint(tmp_path / "b")
    assert resumed.early_stopper.evals_without_improvement == 1
    assert resumed.train()["total_episodes"] == stop_at
    assert load_metrics(tmp_path / "b") == data

    # Resuming a run that stopped early does not train further.
    again = script.build(tmp_path / "a", 50, **settings)
    again.load_checkpoint(tmp_path / "a")
    assert again.train()["total_episodes"] == stop_at


def test_step_budget_truncates_last_episode(tmp_path: Path) -> None:
    trainer = script.build(tmp_path / "run", 1000, max_total_steps=100)
    stats = trainer.train()
    data = load_metrics(tmp_path / "run")
    assert stats["total_steps"] == data["total_steps"] == 100
    assert sum(data["episode_lengths"]) == 100


class _Exploding(gym.Wrapper):
    def __init__(self, env: gym.Env, after: int, exc: Exception) -> None:
        super().__init__(env)
        self.after, self.exc, self.steps = after, exc, 0

    def step(self, action: Any):  # type: ignore[override]
        self.steps += 1
        if self.steps == self.after:
            raise self.exc
        return self.env.step(action)


@pytest.mark.parametrize("exc", [RuntimeError("simulator exploded"),
                                 UserError("trace.csv line 7: bad key")])
def test_exception_writes_inexact_emergency_and_reraises(tmp_path: Path, caplog,
                                                         exc: Exception) -> None:
    from rlcache.agents import DQNAgent
    from rlcache.envs import make_env

    env = _Exploding(make_env("mock", episode_length=40), 150, exc)
    trainer = Trainer(DQNAgent(script.agent_config("mock")), env,
                      script.training_config(20), tmp_path / "run",
                      eval_env=make_env("mock", episode_length=40))
    with caplog.at_level(logging.ERROR, logger="rlcache"), pytest.raises(type(exc)) as info:
        trainer.train()
    assert info.value is exc
    meta = json.loads((tmp_path / "run" / "checkpoints" / "emergency.json").read_text())
    assert meta["kind"] == "emergency" and meta["exact"] is False
    assert "emergency checkpoint" in caplog.text and str(exc) in caplog.text
    resumed = script.build(tmp_path / "run", 20)
    resumed.load_checkpoint(tmp_path / "run" / "checkpoints" / "emergency.pt")
    assert resumed.episode == meta["episode"]
    assert "training failed" in (tmp_path / "run" / "logs" / "training.log").read_text().lower()


def test_tensorboard_writes_events(tmp_path: Path) -> None:
    trainer = script.build(tmp_path / "run", 6, use_tensorboard=True)
    trainer.train()
    events = list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 100


def test_wandb_offline_writes_run(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb_home"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb_config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb_cache"))
    trainer = script.build(tmp_path / "run", 6, use_wandb=True)
    trainer.train()
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert runs, list((tmp_path / "run").rglob("*"))
    assert any(p.suffix == ".wandb" and p.stat().st_size > 0 for p in runs[0].rglob("*"))


def test_trackers_are_not_imported_unless_enabled(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from rlcache.training import Trainer, TrainingConfig; "
            "import rlcache.training.trainer; "
            "print('wandb' in sys.modules, 'torch.utils.tensorboard' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": "src"})
    assert out.stdout.split() == ["False", "False"]


def test_on_evaluation_callback_gets_each_entry(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    trainer = script.build(tmp_path / "run", 12)
    trainer.on_evaluation = seen.append
    trainer.train()
    assert seen == load_metrics(tmp_path / "run")["evaluations"]
    assert [e["episode"] for e in seen] == [6, 12]


def test_failure_before_the_first_episode_saves_nothing(tmp_path: Path, monkeypatch) -> None:
    trainer = script.build(tmp_path / "run", 4)

    def broken_tracker() -> None:
        raise UserError("training.use_wandb: wandb is not installed")

    monkeypatch.setattr(trainer, "_make_tracker", broken_tracker)
    with pytest.raises(UserError, match="wandb is not installed"):
        trainer.train()
    assert not list((tmp_path / "run" / "checkpoints").glob("*"))
