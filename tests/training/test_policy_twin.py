"""best/latest's torch-free twins: written with each save of a cache agent, tied to their
``.pt`` by its SHA-256, and what ``rlcache evaluate -k`` replays (the same report as from
the ``.pt``) only while they stand for it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rlcache import builders, runs
from rlcache.cli.evaluate import run_evaluate
from rlcache.config import RunConfig
from rlcache.evaluation import TIMING_KEYS
from rlcache.policy import load_policy
from rlcache.policy.file import save_policy
from rlcache.training.policy_twin import evaluation_twin, twin_path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {
    "training": {"max_episodes": 4, "max_steps_per_episode": 100000, "eval_frequency": 2,
                 "eval_episodes": 1, "checkpoint_frequency": 100, "early_stopping": False,
                 "seed": 0, "plot_frequency": 1000, "verbose": False, "num_envs": 2,
                 "save_replay_buffer": False},
    "rl": {"network": "candidate", "hidden_sizes": [16, 16], "gamma": 0.0, "batch_size": 16,
           "buffer_size": 4000, "learning_starts": 200, "train_freq": 4,
           "exploration_steps": 1500, "target_update_interval": 500},
    "env": {"name": "cache", "workload": "zipf_scan", "requests": 6000, "objects": 700,
            "cache_size": 40, "window": 1200, "reward": "oracle", "features": "extended",
            "candidates": ["lru", "lfu", "fifo", "mru", "random", "random"]},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("twin") / "run"
    builders.build_trainer(RunConfig.from_dict(CONFIG), out).train()
    return out


def _report(target: Path) -> dict:
    report = run_evaluate(target)
    for key in TIMING_KEYS:
        report["agent"].pop(key)
    return report


def test_each_best_and_latest_has_a_twin_tied_to_its_pt(run: Path) -> None:
    folder = run / "checkpoints"
    for stem in ("best", "latest"):
        pt = folder / f"{stem}.pt"
        policy = load_policy(str(twin_path(pt)))
        meta = json.loads(pt.with_suffix(".json").read_text())
        assert policy.meta["training"]["checkpoint_sha256"] == meta["sha256"]
        assert policy.meta["training"]["episode"] == meta["episode"]
    assert not list(folder.glob("checkpoint_ep*.policy.npz"))


def test_evaluate_from_the_twin_equals_evaluate_from_the_pt(
        run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    with_pt = tmp_path / "pt"
    shutil.copytree(run, with_pt)
    for twin in (with_pt / "checkpoints").glob("*.policy.npz"):
        twin.unlink()
    want = _report(with_pt)
    assert want["_meta"]["checkpoint"].endswith("best.pt")

    def no_pt(*args: object, **kwargs: object) -> None:
        raise AssertionError("the .pt was loaded")

    with monkeypatch.context() as patch:  # the twin: no .pt is loaded
        patch.setattr(runs, "choose_for_evaluation", no_pt)
        got = _report(copy)
        latest = _report(copy / "checkpoints" / "latest.pt")
    assert {**got, "_meta": None} == {**want, "_meta": None}
    assert got["_meta"] == {**want["_meta"], "checkpoint": str(copy / "checkpoints" / "best.pt")}
    assert latest["_meta"]["chosen"] == "as given"
    # A twin that no longer stands for its .pt (the previous save's, when a crash cut
    # this save short after its .pt and JSON) is not used.
    twin = copy / "checkpoints" / "best.policy.npz"
    policy = load_policy(str(twin))
    arrays = {f"layer{i}.{kind}": a for i, (w, b) in enumerate(policy.network.layers)
              for kind, a in (("weight", w), ("bias", b))}
    save_policy(twin, arrays, {**policy.meta, "training": {
        **policy.meta["training"], "checkpoint_sha256": "0" * 64}})
    assert evaluation_twin(copy) is None
    assert _report(copy) == {**want, "_meta": {**want["_meta"], "checkpoint": str(
        copy / "checkpoints" / "best.pt")}}

def test_evaluate_from_a_twin_imports_no_torch(run: Path) -> None:
    code = ("import sys, json\n"
            "from rlcache.cli.evaluate import run_evaluate\n"
            f"report = run_evaluate({str(run)!r})\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "print(json.dumps(report['agent']['hits']))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
                          timeout=120)
    assert done.returncode == 0, done.stderr
