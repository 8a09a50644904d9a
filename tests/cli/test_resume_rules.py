"""What a resume may change, which checkpoint evaluate judges, and what the cache
commands say about the trace they read (real processes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from tests.cli.conftest import CONFIGS, assert_user_error, rlcache, run_parallel, tree_hash

TINY = ["--set", "env.window=800", "--set", "training.eval_frequency=1",
        "--set", "training.eval_episodes=1", "--set", "rl.learning_starts=50",
        "--set", "training.max_steps_per_episode=400", "-e", "1"]


def test_resume_refuses_to_change_the_runs_identity(trained_run: Path, tmp_path: Path) -> None:
    """Another seed, agent type or env value on --resume: exit 2 naming the key, the value
    kept and the flag, and the run folder unchanged (one copy of the run per case: the
    run folder's lock would refuse all but one otherwise)."""
    changes = {"seed": (["--seed", "4"], ("training.seed", "3", "4", "--seed")),
               "agent": (["--agent-type", "double_dqn"], ("rl.agent_type", "dqn",
                                                          "--agent-type")),
               "env": (["--set", "env.episode_length=40"], ("env.episode_length", "30", "40")),
               "ckpt_dir": (["--set", "training.checkpoint_dir=other"],
                            ("training.checkpoint_dir",))}
    runs, before, jobs = {}, {}, {}
    for name, (extra, _) in changes.items():
        runs[name] = tmp_path / name
        shutil.copytree(trained_run, runs[name])
        before[name] = tree_hash(runs[name])
        jobs[name] = (["-m", "rlcache.cli", "train", "--resume", "auto", "-o", str(runs[name]),
                       "-e", "30", *extra], tmp_path)
    procs = run_parallel(jobs)
    for name, (_, needles) in changes.items():
        line = assert_user_error(procs[name], "cannot change what the run is", *needles)
        assert "start a new run" in line
        assert tree_hash(runs[name]) == before[name]
    assert not (runs["ckpt_dir"] / "other").exists()


def test_evaluate_a_run_folder_says_which_file(trained_run: Path, tmp_path: Path) -> None:
    proc = rlcache("evaluate", "-k", str(trained_run), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"{trained_run / 'checkpoints' / 'best.pt'} (the run's best evaluation" in proc.stdout
    latest = rlcache("evaluate", "-k", str(trained_run / "checkpoints" / "latest.pt"),
                     cwd=tmp_path)
    assert latest.returncode == 0 and "latest.pt (as given" in latest.stdout


def test_trace_options_capacity_and_the_split_it_trained_on(tmp_path: Path) -> None:
    """--id-col on train (a header column), the capacity in objects on train and evaluate,
    and evaluate --split test on a run trained on the whole trace says it is not unseen."""
    gen = np.random.default_rng(0)
    keys = gen.zipf(1.3, 6000) % 400
    (tmp_path / "t.csv").write_text("time,key\n" + "".join(f"{i},{1000 + k}\n"
                                                           for i, k in enumerate(keys)))
    distinct = len(set(keys.tolist()))
    run = tmp_path / "run"
    trained = rlcache("train", "-c", str(CONFIGS / "cache.yaml"), "-o", str(run),
                      "--trace", "t.csv", "--id-col", "key", "--cache-size", "0.1", *TINY,
                      cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert f"Cache size 0.1 = {round(0.1 * distinct)} objects (of the {distinct} distinct " \
           f"objects in the trace)" in trained.stdout, trained.stdout
    assert "id_col: key" in (run / "config.yaml").read_text()
    jobs = {"test": (["-m", "rlcache.cli", "evaluate", "-k", str(run), "--split", "test"],
                     tmp_path),
            "json": (["-m", "rlcache.cli", "evaluate", "-k", str(run), "--json"], tmp_path),
            "bad_col": (["-m", "rlcache.cli", "evaluate", "-k", str(run), "--id-col", "-1"],
                        tmp_path)}
    procs = run_parallel(jobs)
    assert procs["test"].returncode == 0, procs["test"].stderr
    assert "split test" in procs["test"].stdout
    assert "the agent trained on this whole trace: these requests are not unseen" in \
        procs["test"].stdout
    assert "objects of" in procs["test"].stdout
    assert set(json.loads(procs["json"].stdout)) >= {"agent", "LRU", "BELADY"}
    assert_user_error(procs["bad_col"], "--id-col", "-1")
