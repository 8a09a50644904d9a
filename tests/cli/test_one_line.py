"""One line, not a traceback, for every input class the issue found, and by construction.

In-process: :func:`rlcache.cli.common.run_command` (the one handler every command runs
under) turns each class of exception a command may raise into exactly one
``rlcache: error:`` line with its exit status. Real processes: each input class that
printed a traceback, run through ``python -m rlcache.cli``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
import torch

from rlcache.cli.common import RlcacheGroup, run_command
from rlcache.errors import UserError
from tests.cli.conftest import CONFIGS, assert_user_error, cli_env, run_parallel, tree_hash
from tests.cli.test_run_folder import rewrite_checkpoint


def _raiser(exc: BaseException | None, signum: int | None = None) -> click.Group:
    """A command group like ``rlcache`` whose one command raises ``exc`` (or signals)."""
    group = RlcacheGroup()

    @group.command()
    def cmd() -> None:
        if signum is not None:
            os.kill(os.getpid(), signum)
        if exc is not None:
            raise exc
    return group


HANDLED: dict[str, tuple[BaseException | None, int | None, int, str]] = {
    "user_error": (UserError("bad value"), None, 2, "bad value"),
    "usage_error": (click.UsageError("no such option"), None, 2, "no such option"),
    "keyboard_interrupt": (KeyboardInterrupt(), None, 130, "interrupted"),
    "sigint": (None, signal.SIGINT, 130, "interrupted"),
    "sigterm": (None, signal.SIGTERM, 143, "terminated"),
    "memory_error": (MemoryError(), None, 1, "out of memory"),
    "torch_allocator": (RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPU"
                                     "Allocator: can't allocate memory: you tried to "
                                     "allocate 40000000000 bytes.\nline two"), None, 1,
                        "out of memory"),
    "recursion": (RecursionError("maximum recursion depth exceeded"), None, 2, "too deeply"),
    "os_error": (OSError(28, "No space left on device", "/run/x"), None, 1, "No space left"),
    "unexpected": (KeyError("surprise"), None, 1, "internal error: KeyError"),
    "multi_line": (ValueError("first\nsecond\nthird"), None, 1, "ValueError: first ("),
}


@pytest.mark.parametrize("case", list(HANDLED))
def test_every_exception_class_is_one_line(case: str, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RLCACHE_TRACEBACK", raising=False)
    exc, signum, code, needle = HANDLED[case]
    with pytest.raises(SystemExit) as exit_info:
        run_command(_raiser(exc, signum), ["cmd"], prog_name="rlcache")
    err = capsys.readouterr().err
    assert exit_info.value.code == code, err
    assert err.count("\n") == 1 and err.startswith("rlcache: error: "), err
    assert needle in err and "Traceback" not in err
    # The handlers are the process's own again afterwards.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


# --------------------------------------------------------------------------- real processes

DEEP = "a:\n" + "".join(" " * i + "- \n" for i in range(1, 5001))
CSV = "key,size\n1,10\n2,20\n1,10\n3,5\n"
CASES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "id_col_negative": (["baselines", "--trace", "{tmp}/t.csv", "--id-col", "-99",
                         "--cache-size", "2"], ("--id-col", "-99")),
    "baselines_seed_negative": (["baselines", "--workload", "zipf", "--seed", "-1",
                                 "--cache-size", "0.1"], ("--seed", "-1")),
    "env_no_module": (["train", "--env", "nosuchmod:X", "--dry-run"], ("nosuchmod",)),
    "render_mode_number": (["train", "--env", "CartPole-v1", "--set", "env.render_mode=5",
                            "--dry-run"], ("render_mode",)),
    "render_mode_human": (["train", "--env", "CartPole-v1", "--set", "env.render_mode=human",
                           "--dry-run"], ("render_mode",)),
    "deep_yaml": (["train", "-c", "{tmp}/deep.yaml", "--dry-run"], ("deep.yaml", "deeply")),
    "plot_huge_number": (["plot", "{tmp}/huge"], ("metrics.json", "1e+308")),
    "plot_strings": (["plot", "{tmp}/strings"], ("metrics.json", "'many'")),
    "rng_torch": (["evaluate", "-k", "{tmp}/rng_torch/checkpoints/latest.pt"],
                  ("RNG state",)),
    "rng_numpy": (["train", "--resume", "{tmp}/rng_numpy/checkpoints/latest.pt", "-e", "30"],
                  ("RNG state",)),
    "output_empty": (["train", "-c", str(CONFIGS / "mock.yaml"), "-o", "", "-e", "1"],
                     ("--output", "empty")),
    "output_under_file": (["train", "-c", str(CONFIGS / "mock.yaml"), "-o",
                           "{tmp}/t.csv/run", "-e", "1"], ("--output", "t.csv")),
    "output_logs_is_file": (["train", "-c", str(CONFIGS / "mock.yaml"), "-o",
                             "{tmp}/logsfile", "-e", "1"], ("logs", "not a folder")),
    "output_unwritable": (["train", "-c", str(CONFIGS / "mock.yaml"), "-o",
                           "/proc/rlcache-run", "-e", "1"], ("--output", "/proc")),
}
if not torch.cuda.is_available():
    CASES["device_cuda"] = (["train", "--set", "rl.device=cuda", "--dry-run"], ("rl.device",))


def _prepare(tmp: Path, trained_run: Path) -> None:
    (tmp / "t.csv").write_text(CSV)
    (tmp / "deep.yaml").write_text(DEEP)
    for name, value in (("huge", 1e308), ("strings", "many")):
        (tmp / name).mkdir()
        metrics = json.loads((trained_run / "metrics.json").read_text())
        metrics["episode_rewards"][3] = value
        (tmp / name / "metrics.json").write_text(json.dumps(metrics))
    for name in ("rng_torch", "rng_numpy"):
        shutil.copytree(trained_run, tmp / name)

    def bad_torch(payload: dict) -> None:
        payload["rng"]["global"]["torch"] = torch.zeros(7, dtype=torch.uint8)

    def bad_numpy(payload: dict) -> None:
        payload["rng"]["global"]["numpy"]["keys"] = torch.zeros(3, dtype=torch.int64)

    for pt in (tmp / "rng_torch" / "checkpoints").glob("*.pt"):
        rewrite_checkpoint(pt, bad_torch)
    for pt in (tmp / "rng_numpy" / "checkpoints").glob("*.pt"):
        rewrite_checkpoint(pt, bad_numpy)
    (tmp / "logsfile").mkdir()
    (tmp / "logsfile" / "logs").write_text("not a folder")


@pytest.fixture(scope="module")
def outcomes(trained_run: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, dict[str, str], dict[str, subprocess.CompletedProcess[str]]]:
    """Every case at once, in one folder; its files hashed before."""
    tmp = tmp_path_factory.mktemp("one-line")
    _prepare(tmp, trained_run)
    before = tree_hash(tmp)
    jobs = {name: (["-m", "rlcache.cli", *(a.format(tmp=tmp) for a in args)], tmp)
            for name, (args, _) in CASES.items()}
    return tmp, before, run_parallel(jobs)


@pytest.mark.parametrize("case", list(CASES))
def test_input_class_is_one_line_exit_2_nothing_created(case: str, outcomes) -> None:
    tmp, before, procs = outcomes
    assert_user_error(procs[case], *CASES[case][1])
    assert tree_hash(tmp) == before  # nothing any case wrote, changed or left behind
    assert sorted(p.name for p in tmp.iterdir()) == sorted(
        ["t.csv", "deep.yaml", "huge", "strings", "rng_torch", "rng_numpy", "logsfile"])


def _limit_memory() -> None:
    limit = 6 * 2**30  # far below the 40 GB asked for, whatever the machine allows
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_a_network_too_big_for_memory_is_one_line(tmp_path: Path) -> None:
    """torch's allocator error (not a MemoryError) under a memory limit: exit 1, one line
    naming the sizes to reduce, and no run folder."""
    proc = subprocess.run(
        [sys.executable, "-m", "rlcache.cli", "train", "-c", str(CONFIGS / "mock.yaml"),
         "-o", "big", "-e", "1", "--set", "rl.hidden_sizes=[100000,100000]"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180, env=cli_env(),
        preexec_fn=_limit_memory)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("rlcache: error: out of memory"), lines
    assert "rl.hidden_sizes" in lines[0]
    assert not (tmp_path / "big").exists()


def _catches_sigterm(pid: int) -> bool:
    """Whether ``pid`` has a SIGTERM handler yet (Linux: the SigCgt mask in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt"))
    return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))


@pytest.mark.parametrize("command,signum,code,word", [
    (["baselines", "--workload", "zipf", "--requests", "3000000", "--objects", "300000",
      "--cache-size", "0.1"], signal.SIGINT, 130, "interrupted"),
    (["evaluate", "-k", "{run}", "--episodes", "1000000"], signal.SIGTERM, 143, "terminated"),
])
def test_interrupted_commands_exit_128_plus_the_signal(command: list[str], signum: int,
                                                        code: int, word: str,
                                                        trained_run: Path,
                                                        tmp_path: Path) -> None:
    """SIGINT / SIGTERM once the command runs: exit 130 / 143 and one line, as train."""
    args = [a.format(run=trained_run) for a in command]
    proc = subprocess.Popen([sys.executable, "-m", "rlcache.cli", *args], cwd=tmp_path,
                            env=cli_env(), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not _catches_sigterm(proc.pid):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the command never installed its handlers"
            time.sleep(0.05)
        time.sleep(0.5)  # inside the command's work, not its start-up
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)  # after the numba loop it is in returns
    finally:
        proc.kill()
    assert proc.returncode == code, (out, err)
    assert err.splitlines() == [f"rlcache: error: {word}"], err
