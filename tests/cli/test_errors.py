"""Every user error of issue 4 through a real subprocess: exit 2, exactly one line on
stderr, no traceback, and the output folder's files unchanged (hashed before and after).

All cases run side by side in one fixture (each subprocess mostly imports torch); each
test then checks its own case.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.conftest import CONFIGS, assert_user_error, run_parallel, tree_hash

DEFAULT = str(CONFIGS / "default.yaml")
RESUME_AUTO = ["-o", "{run}", "--resume", "auto"]  # would write into the run but for the error

FILES = {
    "bad.yaml": "training:\n  max_episodes: 10\n  eval_frequency: : 5\n",
    "typo.yaml": "rl:\n  learning_rat: 0.01\n",
    "type.yaml": "training:\n  eval_episodes: [1, 2]\n",
}

CASES: dict[str, list[str]] = {
    "missing_config": ["train", *RESUME_AUTO, "-c", "nope/missing.yaml"],
    "yaml_syntax": ["train", *RESUME_AUTO, "-c", "{tmp}/bad.yaml"],
    "unknown_key": ["train", *RESUME_AUTO, "-c", "{tmp}/typo.yaml"],
    "unknown_section": ["train", *RESUME_AUTO, "--set", "trainng.max_episodes=5"],
    "wrong_type_set": ["train", *RESUME_AUTO, "--set", "rl.learning_rate=fast"],
    "wrong_type_yaml": ["train", *RESUME_AUTO, "-c", "{tmp}/type.yaml"],
    "zero_episodes": ["train", *RESUME_AUTO, "--episodes", "0"],
    "negative_count": ["train", *RESUME_AUTO, "--set", "training.eval_episodes=-3"],
    "empty_env_value": ["train", *RESUME_AUTO, "-e", "30", "--set", "env.episode_length="],
    "resume_missing": ["train", "--resume", "{run}/checkpoints/nope.pt"],
    "size_mismatch_train": ["train", "--resume", "{run}/checkpoints/latest.pt", "-e", "30",
                            "--set", "env.n_actions=5"],
    "size_mismatch_evaluate": ["evaluate", "--checkpoint", "{run}", "--env", "CartPole-v1"],
    "output_holds_run": ["train", "-c", DEFAULT, "-o", "{run}", "-e", "5"],
    "usage_error": ["train", "--episodes", "many", "-o", "{run}"],
    "evaluate_missing": ["evaluate", "--checkpoint", "{run}/missing.pt"],
    "plot_missing": ["plot", "{tmp}/no_such_run"],
}


@dataclass
class Outcome:
    """One error case: the finished process and the run folder's hashes."""

    proc: subprocess.CompletedProcess[str]
    before: dict[str, str]
    after: dict[str, str]
    run: Path


@pytest.fixture(scope="module")
def outcomes(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run every case at once, each against its own copy of a trained run."""
    jobs, runs, before = {}, {}, {}
    for name, template in CASES.items():
        tmp = tmp_path_factory.mktemp(name)
        for fname, text in FILES.items():
            (tmp / fname).write_text(text)
        run = tmp / "run"
        shutil.copytree(trained_run, run)
        runs[name], before[name] = run, tree_hash(run)
        args = [a.format(run=run, tmp=tmp) for a in template]
        jobs[name] = (["-m", "rlcache.cli", *args], tmp)
    procs = run_parallel(jobs)
    return {name: Outcome(procs[name], before[name], tree_hash(runs[name]), runs[name])
            for name in CASES}


def check(outcomes: dict[str, Outcome], name: str, *needles: str) -> str:
    """One line, exit 2, no traceback, needles present, run folder unchanged."""
    outcome = outcomes[name]
    line = assert_user_error(outcome.proc, *needles)
    assert outcome.before == outcome.after, f"{name} changed files in {outcome.run}"
    assert outcome.before, "the run copy should hold files"
    return line


def test_missing_config_file(outcomes: dict[str, Outcome]) -> None:
    check(outcomes, "missing_config", "missing.yaml", "not found")


def test_yaml_syntax_error_names_the_line(outcomes: dict[str, Outcome]) -> None:
    check(outcomes, "yaml_syntax", "bad.yaml", "line 3")


def test_unknown_key_names_section_and_closest_key(outcomes: dict[str, Outcome]) -> None:
    check(outcomes, "unknown_key", "'learning_rat'", "section 'rl'", "'learning_rate'")
    check(outcomes, "unknown_section", "'trainng'", "'training'")


def test_wrong_type_names_field_value_and_type(outcomes: dict[str, Outcome]) -> None:
    check(outcomes, "wrong_type_set", "rl.learning_rate", "'fast'", "number")
    check(outcomes, "wrong_type_yaml", "training.eval_episodes", "[1, 2]", "integer")
    # env keys go to the env as given: the env checks them and names the key.
    check(outcomes, "empty_env_value", "env.episode_length", "integer >= 1", "''")


def test_zero_or_negative_count(outcomes: dict[str, Outcome]) -> None:
    check(outcomes, "zero_episodes", "training.max_episodes", "positive", "0")
    check(outcomes, "negative_count", "training.eval_episodes", "positive", "-3")


def test_resume_path_missing(outcomes: dict[str, Outcome]) -> None:
    check(outcomes, "resume_missing", "nope.pt", "not found")


def test_checkpoint_size_mismatch(outcomes: dict[str, Outcome]) -> None:
    # The mock env with 5 candidates has a 44-dim observation and 5 actions, not 60 / 7.
    check(outcomes, "size_mismatch_train", "latest.pt", "observation size 60", "44")
    check(outcomes, "size_mismatch_evaluate", "observation size 60", "CartPole-v1")


def test_output_folder_holding_another_run(outcomes: dict[str, Outcome]) -> None:
    check(outcomes, "output_holds_run", "already holds a run", "--resume")


def test_usage_and_other_command_errors(outcomes: dict[str, Outcome]) -> None:
    check(outcomes, "usage_error", "--episodes", "not a valid integer", "--help")
    check(outcomes, "evaluate_missing", "missing.pt", "not found")
    check(outcomes, "plot_missing", "no_such_run", "not found")
