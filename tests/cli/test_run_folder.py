"""The run folder through real processes: a run writes only inside its own folder, one
writer at a time, and nothing a checkpoint says can make rlcache import a module.

Each attack is run against a second run ``A`` beside the run ``B`` being resumed; ``A``
is hashed before and after and must not change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rlcache import runs
from rlcache.errors import UserError
from rlcache.serialization import dumps, safe_torch_load
from tests.cli.conftest import (
    CONFIGS,
    SMALL,
    assert_user_error,
    cli_env,
    rlcache,
    run_parallel,
    tree_hash,
)

DEFAULT = str(CONFIGS / "default.yaml")
EVIL = '''\
from pathlib import Path
Path(__file__).with_name("IMPORTED").write_text("evilmod was imported")
import gymnasium as gym
gym.register("Env-v0", entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv")
'''


def rewrite_checkpoint(pt: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Change a checkpoint's payload and rewrite its JSON's hash: a consistent, crafted file."""
    payload = safe_torch_load(pt)
    edit(payload)
    data = dumps(payload)
    pt.write_bytes(data)
    meta_path = pt.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    meta_path.write_text(json.dumps(meta))


def _set_embedded(section: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(payload: dict[str, Any]) -> None:
        payload["run_config"][section][key] = value
    return edit


# --------------------------------------------------------------------------- containment


@pytest.mark.parametrize("bad", ["/abs/x/checkpoints", "../A/checkpoints", "a/b", "..", "."])
def test_checkpoint_dir_must_be_a_folder_name(bad: str) -> None:
    from rlcache.config import load_run_config

    with pytest.raises(UserError, match=r"training\.checkpoint_dir: expected a folder name"):
        load_run_config(sets=[f"training.checkpoint_dir={bad}"])


def test_resume_cannot_write_outside_its_folder(trained_run: Path, tmp_path: Path) -> None:
    """Flags, a symlink and a checkpoint's embedded config all aim at run A: every one is
    one line, exit 2, and A (hashed) and B are unchanged."""
    a = tmp_path / "A"
    shutil.copytree(trained_run, a)
    jobs, folders = {}, {}
    for name in ("absolute", "dotdot", "symlink", "embedded", "embedded_auto"):
        b = tmp_path / name / "B"
        shutil.copytree(trained_run, b)
        folders[name] = b
    attack = ["--set", "training.keep_last=1", "-e", "40"]
    jobs["absolute"] = ["train", "--resume", "auto", "-o", str(folders["absolute"]), *attack,
                        "--set", f"training.checkpoint_dir={a / 'checkpoints'}"]
    jobs["dotdot"] = ["train", "--resume", "auto", "-o", str(folders["dotdot"]), *attack,
                      "--set", "training.checkpoint_dir=../../A/checkpoints"]
    link = folders["symlink"]
    shutil.rmtree(link / "checkpoints")
    (link / "checkpoints").symlink_to(a / "checkpoints")
    jobs["symlink"] = ["train", "--resume", "auto", "-o", str(link), *attack]
    for name in ("embedded", "embedded_auto"):
        rewrite_checkpoint(folders[name] / "checkpoints" / "latest.pt",
                           _set_embedded("training", "checkpoint_dir", str(a / "checkpoints")))
    jobs["embedded"] = ["train", "--resume",
                        str(folders["embedded"] / "checkpoints" / "latest.pt"), "-e", "40"]
    jobs["embedded_auto"] = ["train", "--resume", "auto", "-o", str(folders["embedded_auto"]),
                             "-e", "40"]
    before_a = tree_hash(a)
    before = {name: tree_hash(folder) for name, folder in folders.items()}
    procs = run_parallel({name: (["-m", "rlcache.cli", *args], tmp_path)
                          for name, args in jobs.items()})
    needles = {"absolute": "training.checkpoint_dir", "dotdot": "training.checkpoint_dir",
               "symlink": "symbolic link", "embedded": "training.checkpoint_dir",
               "embedded_auto": "training.checkpoint_dir"}
    for name, proc in procs.items():
        assert_user_error(proc, needles[name])
        assert tree_hash(folders[name]) == before[name], name
    assert tree_hash(a) == before_a
    assert not (tmp_path / "abs").exists()


# --------------------------------------------------------------------------- the lock


def test_run_lock_names_its_holder_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "run"
    with runs.RunLock(folder) as lock:
        assert lock.path.read_text().strip() == str(os.getpid())
        with pytest.raises(UserError, match=f"in use by another rlcache process "
                                            f"\\(pid {os.getpid()}\\)"):
            runs.RunLock(folder).acquire()
        assert lock.path.exists()  # the refused attempt changed nothing
    assert not (tmp_path / "new").exists()  # created, still empty: removed on release


def _train_args(out: Path, episodes: int) -> list[str]:
    return ["-m", "rlcache.cli", "train", "-c", DEFAULT, "-o", str(out), "--resume", "auto",
            "-e", str(episodes), "--seed", "3", "-q", *SMALL]


def _start(args: list[str], cwd: Path, slow_write: float) -> subprocess.Popen[str]:
    env = cli_env()
    env["RLCACHE_TEST_SLOW_WRITE"] = str(slow_write)
    return subprocess.Popen([sys.executable, *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(pred: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert proc.poll() is None, f"exited early: {proc.communicate()}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_second_writer_is_refused_then_resume_after_kill_works(tmp_path: Path) -> None:
    """A writes the run (slowed down); while A is stopped, B on the same folder exits 2
    naming A's pid and changes nothing; A is SIGKILLed; --resume auto then finishes."""
    out = tmp_path / "run"
    a = _start(_train_args(out, 200), tmp_path, slow_write=0.2)
    try:
        lock = out / runs.LOCK_NAME
        _wait_for(lambda: (out / "checkpoints" / "latest.json").exists()
                  and lock.exists() and lock.read_text().strip() == str(a.pid), a)
        os.kill(a.pid, signal.SIGSTOP)
        before = tree_hash(out)
        b = rlcache(*_train_args(out, 20)[2:], cwd=tmp_path)
        assert_user_error(b, f"pid {a.pid}", "in use by another rlcache process")
        assert tree_hash(out) == before
    finally:
        a.kill()
        a.communicate()
    assert lock.exists()  # a killed writer leaves its lock file; the kernel dropped the lock
    c = rlcache(*_train_args(out, 30)[2:], cwd=tmp_path)
    assert c.returncode == 0, c.stderr
    assert json.loads((out / "metrics.json").read_text())["total_episodes"] == 30
    assert not lock.exists()


def test_three_writers_at_once_leave_one_run(trained_run: Path, tmp_path: Path) -> None:
    """The issue's case: three `--resume auto -o SAME` at once. Each exits 0 or is refused
    with one line naming another's pid, and the folder is the run an uninterrupted
    process makes (metrics equal to the reference run of the same seed)."""
    out = tmp_path / "run"
    procs = [_start(_train_args(out, 20), tmp_path, slow_write=0.05) for _ in range(3)]
    done = [subprocess.CompletedProcess(p.args, p.wait(timeout=240), *p.communicate())
            for p in procs]
    pids = {p.pid for p in procs}
    assert any(d.returncode == 0 for d in done), [d.stderr for d in done]
    for proc, d in zip(procs, done, strict=True):
        if d.returncode != 0:
            line = assert_user_error(d, "in use by another rlcache process")
            holder = int(line.split("(pid ")[1].split(")")[0])
            assert holder in pids - {proc.pid}, line
    got = json.loads((out / "metrics.json").read_text())
    want = json.loads((trained_run / "metrics.json").read_text())
    got.pop("elapsed_seconds"), want.pop("elapsed_seconds")
    assert got == want
    assert not (out / runs.LOCK_NAME).exists()
    assert not list((out / "checkpoints").glob(".*.tmp"))


# --------------------------------------------------------------------------- import safety


def test_a_checkpoint_cannot_make_rlcache_import_a_module(trained_run: Path,
                                                          tmp_path: Path) -> None:
    """A consistent checkpoint naming ``evilmod:Env-v0``, with evilmod.py in the current
    folder: evaluate and both resumes refuse it in one line and evilmod is never imported;
    typed by the user on the command line, the same name imports it (the form works)."""
    (tmp_path / "evilmod.py").write_text(EVIL)
    marker = tmp_path / "IMPORTED"
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    for pt in (run / "checkpoints").glob("*.pt"):
        rewrite_checkpoint(pt, _set_embedded("env", "name", "evilmod:Env-v0"))
    latest = str(run / "checkpoints" / "latest.pt")
    before = tree_hash(run)
    jobs = {"evaluate": ["evaluate", "-k", latest],
            "evaluate_folder": ["evaluate", "-k", str(run), "--json"],
            "resume": ["train", "--resume", latest, "-e", "30"],
            "resume_auto": ["train", "--resume", "auto", "-o", str(run), "-e", "30"]}
    procs = run_parallel({name: (["-m", "rlcache.cli", *args], tmp_path)
                          for name, args in jobs.items()})
    for name, proc in procs.items():
        assert_user_error(proc, "'evilmod:Env-v0'", "not a registered environment")
        assert not marker.exists(), f"{name} imported evilmod"
    assert tree_hash(run) == before
    typed = rlcache("train", "--env", "evilmod:Env-v0", "--dry-run", "-o", "typed",
                    cwd=tmp_path)
    assert typed.returncode == 0, typed.stderr
    assert marker.exists()
