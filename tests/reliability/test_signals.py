"""SIGTERM / SIGINT at random instants of a real ``rlcache train``: emergency checkpoint,
exit 143 / 130, and the run resumed with ``--resume auto`` equals the uninterrupted one.

Instants are drawn over the training phase (from the process's first write). A signal
before the trainer installs its handlers (interpreter start-up) ends the process like a
SIGKILL would, which test_kill.py covers.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

from . import chaos, reference_config, reference_run

# Half SIGTERM, half SIGINT; RLCACHE_CHAOS_SIGNALS=N sends more (4 by default: the suite's
# 10-minute budget; bench/chaos.py covers hundreds of instants).
_N = max(2, int(os.environ.get("RLCACHE_CHAOS_SIGNALS", "4")))
CASES = [(signal.SIGTERM, 143)] * (_N // 2) + [(signal.SIGINT, 130)] * (_N - _N // 2)


def test_signals_at_random_instants(tmp_path_factory, tmp_path: Path) -> None:
    ref = reference_run(tmp_path_factory)
    config = reference_config(tmp_path_factory)
    seed = int(os.environ.get("RLCACHE_CHAOS_SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    runs: list[tuple[int, int, Path, subprocess.Popen[str], float]] = []
    for i, (signum, code) in enumerate(CASES):
        out = tmp_path / f"run{i}-{signal.Signals(signum).name}"
        runs.append((signum, code, out, chaos.start(chaos.train_cmd(config, out), 0.01),
                     rnd.uniform(0.0, 2.0)))
    # Signal each process at its instant: a random delay after its first write.
    pending = list(runs)
    started: dict[Path, float] = {}
    deadline = time.monotonic() + 240
    while pending:
        assert time.monotonic() < deadline, "processes never got going"
        for item in list(pending):
            signum, _, out, proc, delay = item
            if proc.poll() is not None:
                pending.remove(item)
                continue
            if out not in started and chaos.temporaries(out):
                started[out] = time.monotonic()
            if out in started and time.monotonic() - started[out] >= delay:
                proc.send_signal(signum)
                pending.remove(item)
        time.sleep(0.002)

    mid_run = 0
    resumes: dict[str, list[str]] = {}
    for signum, code, out, proc, _delay in runs:
        _, err = proc.communicate(timeout=240)
        name = signal.Signals(signum).name
        assert "Traceback" not in err, err
        latest = json.loads((out / "checkpoints" / "latest.json").read_text())
        if proc.returncode == code:
            mid_run += 1
            meta = json.loads((out / "checkpoints" / "emergency.json").read_text())
            assert meta["kind"] == "emergency" and meta["exact"] is True, meta
            assert (meta["episode"], meta["total_steps"]) == \
                (latest["episode"], latest["total_steps"])
            log = (out / "logs" / "training.log").read_text()
            assert f"{name} received" in log and "emergency" in log
        else:
            # The signal came after the last episode: the run had finished its work.
            assert proc.returncode in (0, -signum, code), (proc.returncode, err)
            assert latest["episode"] == chaos.TINY_CONFIG["training"]["max_episodes"], err
        resumes[str(out)] = chaos.train_cmd(config, out)
    assert mid_run >= len(CASES) // 2, f"only {mid_run} signals landed mid-run (seed {seed})"
    print(f"\nsignals: {len(CASES)} sent (seed {seed}), {mid_run} mid-run with an "
          f"emergency checkpoint and exit 143/130")

    from . import run_all

    for out, done in run_all(resumes, width=3).items():
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        assert chaos.compare_runs(Path(out), ref) == [], out
