"""Property-based bad input: generated YAML configs, CLI values, CSV / text / binary
traces. Each input either runs (exit 0) or is refused with exit 2 and exactly one line on
stderr (``rlcache: error: ...``), never a traceback, and the output folder's existing
files stay as they were (hashed before and after).

In-process through ``click.testing.CliRunner`` (the real ``rlcache`` group and its one
error handler) for speed, plus a few real subprocesses. Example counts are bounded so CI
stays fast; each test prints what it tried (``pytest -s``). More examples:
``RLCACHE_HYPOTHESIS_SCALE=10 pytest tests/reliability/test_bad_input.py -s``.
"""

from __future__ import annotations

import collections
import os
import shutil
import string
import subprocess
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlcache.cli import main

from . import assert_one_line_error, chaos, reference_run, tree_hash

SCALE = float(os.environ.get("RLCACHE_HYPOTHESIS_SCALE", "1"))
SETTINGS = dict(deadline=None, derandomize=False, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


def n(examples: int) -> int:
    return max(1, int(examples * SCALE))


def invoke(args: list[str]) -> Any:
    torch.set_num_threads(1)
    return CliRunner().invoke(main, args, prog_name="rlcache", catch_exceptions=True)


def check_outcome(result: Any, counts: collections.Counter, args: list[str]) -> None:
    """Exit 0, or exit 2 with one line on stderr and no traceback."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"traceback for {args}:\n{tb}")
    if result.exit_code == 0:
        counts["ran (exit 0)"] += 1
        return
    counts["refused (exit 2, one line)"] += 1
    assert_one_line_error(result.exit_code, result.stderr, result.stdout)


# ----------------------------------------------------------------------------- YAML

TRAINING_KEYS = ["max_episodes", "max_steps_per_episode", "eval_frequency", "eval_episodes",
                 "checkpoint_frequency", "early_stopping", "patience", "min_episodes", "seed",
                 "log_frequency", "keep_last", "save_replay_buffer", "max_total_steps",
                 "min_delta", "plot_frequency", "checkpoint_dir", "verbose", "episodes",
                 "maxepisodes", "use_wandb"]
RL_KEYS = ["learning_rate", "gamma", "batch_size", "buffer_size", "learning_starts",
           "train_freq", "target_update_interval", "hidden_sizes", "epsilon_start",
           "epsilon_end", "exploration_steps", "exploration_fraction", "agent_type",
           "double_q", "dueling", "tau", "gradient_steps", "network", "device", "lr",
           "state_dim", "torch_threads", "seed", "gama"]
ENV_KEYS = ["name", "episode_length", "max_misses", "n_actions", "features", "bogus"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 5), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["1e-3", "0x10", "nan", "-inf", "~", "[1, 2]", "mock", "cache",
                     "CartPole-v1", "dqn", "double_dqn", "auto", "cpu", "mlp", "yes"]))
values = st.one_of(scalars, st.lists(scalars, max_size=3),
                   st.dictionaries(st.text(max_size=5), scalars, max_size=2))


def section(keys: list[str]) -> st.SearchStrategy:
    return st.dictionaries(st.one_of(st.sampled_from(keys), st.text(max_size=8)), values,
                           max_size=4)


configs = st.one_of(
    st.fixed_dictionaries({}, optional={"training": st.one_of(section(TRAINING_KEYS), values),
                                        "rl": st.one_of(section(RL_KEYS), values),
                                        "env": st.one_of(section(ENV_KEYS), values),
                                        "extra": values}),
    values)
raw_yaml = st.one_of(st.text(max_size=80),
                     st.sampled_from(["training: [", "rl:\n  lr: 1\n lr: 2", "\t:", "- a\n- b",
                                      "training:\n  seed: &a 1\n  patience: *a",
                                      "!!python/object/apply:os.system ['touch pwned']",
                                      "{training: {max_episodes: 0}}", "env: {name: ''}"]))


def _existing_output(root: Path) -> Path:
    out = root / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "notes.txt").write_text("not a run: must survive every example\n")
    return out


def test_generated_yaml_configs_dry_run(tmp_path: Path) -> None:
    counts: collections.Counter = collections.Counter()
    out = _existing_output(tmp_path)
    before = tree_hash(out)
    cfg_file = tmp_path / "cfg.yaml"

    @settings(max_examples=n(200), **SETTINGS)
    @given(st.one_of(configs.map(lambda c: yaml.safe_dump(c, allow_unicode=True)), raw_yaml))
    def check(text: str) -> None:
        cfg_file.write_text(text, encoding="utf-8")
        args = ["train", "-c", str(cfg_file), "-o", str(out), "--dry-run", "--quiet"]
        check_outcome(invoke(args), counts, args)
        assert tree_hash(out) == before

    check()
    assert not (Path.cwd() / "pwned").exists()
    print(f"\nYAML configs (train --dry-run): {sum(counts.values())} tried: {dict(counts)}")


def test_generated_yaml_configs_real_runs(tmp_path: Path) -> None:
    """Real (bounded) training runs: the flags cap the budget whatever the YAML says."""
    counts: collections.Counter = collections.Counter()
    cfg_file = tmp_path / "cfg.yaml"
    bounds = ["--steps", "40", "--eval-episodes", "1", "--set", "env.episode_length=20",
              "--set", "training.max_steps_per_episode=20", "--set", "rl.buffer_size=500",
              "--set", "training.eval_frequency=1000", "--set", "training.plot_frequency=1000",
              "--set", "rl.hidden_sizes=[8]"]
    runs = iter(range(10**6))

    @settings(max_examples=n(8), **SETTINGS)
    @given(configs.map(lambda c: yaml.safe_dump(c, allow_unicode=True)))
    def check(text: str) -> None:
        cfg_file.write_text(text, encoding="utf-8")
        root = tmp_path / f"r{next(runs)}"
        out = _existing_output(root)
        notes = tree_hash(out)
        args = ["train", "-c", str(cfg_file), "-o", str(out), "--quiet", *bounds]
        result = invoke(args)
        check_outcome(result, counts, args)
        if result.exit_code == 0:
            assert tree_hash(out)["notes.txt"] == notes["notes.txt"]
            assert (out / "metrics.json").exists()
        else:
            assert tree_hash(out) == notes
        shutil.rmtree(root, ignore_errors=True)

    check()
    print(f"\nYAML configs (real bounded runs): {sum(counts.values())} tried: {dict(counts)}")


# ----------------------------------------------------------------------------- CLI values

junk = st.one_of(st.text(max_size=10), st.integers(-10**20, 10**20).map(str),
                 st.sampled_from(["0", "-1", "1e3", "2.5", "", " ", "nan", "auto", "--help"]))
set_values = st.one_of(
    st.tuples(st.sampled_from([f"training.{k}" for k in TRAINING_KEYS]
                              + [f"rl.{k}" for k in RL_KEYS] + [f"env.{k}" for k in ENV_KEYS]
                              + ["training", "rl.", ".x", "search.x", "a.b.c", "env"]),
              junk).map(lambda kv: f"{kv[0]}={kv[1]}"),
    st.text(max_size=16))


def test_generated_train_flag_values(tmp_path: Path) -> None:
    counts: collections.Counter = collections.Counter()
    out = _existing_output(tmp_path)
    before = tree_hash(out)
    flags = st.lists(st.one_of(
        st.tuples(st.sampled_from(["--episodes", "-e", "--steps", "--seed", "--eval-episodes",
                                   "--agent-type", "--env", "--resume", "--config"]), junk),
        st.tuples(st.just("--set"), set_values)), max_size=4)

    @settings(max_examples=n(200), **SETTINGS)
    @given(flags)
    def check(pairs: list[tuple[str, str]]) -> None:
        args = ["train", "-o", str(out), "--dry-run", "--quiet"]
        for flag, value in pairs:
            args += [flag, value]
        check_outcome(invoke(args), counts, args)
        assert tree_hash(out) == before

    check()
    print(f"\ntrain flag values (--dry-run): {sum(counts.values())} tried: {dict(counts)}")


def _not_a_large_int(text: str) -> bool:
    """Keep --episodes values that would not ask for a long evaluation. int() is the
    judge, as for Click: '²'.isdigit() is true but int('²') fails, and int('1_000')
    is 1000."""
    try:
        return abs(int(text)) <= 3
    except ValueError:
        return True


def test_generated_evaluate_flag_values(tmp_path_factory, tmp_path: Path) -> None:
    counts: collections.Counter = collections.Counter()
    run = tmp_path / "run"
    shutil.copytree(reference_run(tmp_path_factory), run)
    before = tree_hash(run)
    small = st.one_of(st.integers(-3, 3).map(str), junk.filter(_not_a_large_int))
    flags = st.lists(st.one_of(
        st.tuples(st.sampled_from(["--episodes", "-e"]), small),
        st.tuples(st.sampled_from(["--seed", "--env", "--checkpoint"]), junk)), max_size=3)

    @settings(max_examples=n(40), **SETTINGS)
    @given(flags)
    def check(pairs: list[tuple[str, str]]) -> None:
        args = ["evaluate", "--checkpoint", str(run / "checkpoints" / "latest.pt")]
        for flag, value in pairs:
            args += [flag, value]
        check_outcome(invoke(args), counts, args)
        assert tree_hash(run) == before

    check()
    print(f"\nevaluate flag values: {sum(counts.values())} tried: {dict(counts)}")


# ----------------------------------------------------------------------------- traces

tokens = st.one_of(st.integers(-2**64, 2**64).map(str), st.integers(0, 50).map(str),
                   st.text(string.printable, max_size=6),
                   st.sampled_from(["", " ", "id", "size", "1.5", "-0", "0x1f", "\x00", "é"]))
csv_text = st.lists(st.lists(tokens, min_size=0, max_size=4).map(",".join),
                    max_size=30).map("\n".join)
txt_text = st.lists(tokens, max_size=40).map("\n".join)
oracle_bytes = st.one_of(st.binary(max_size=24 * 20),
                         st.integers(0, 20).flatmap(lambda k: st.binary(min_size=24 * k,
                                                                        max_size=24 * k)))
cache_sizes = st.one_of(st.sampled_from(["1", "2", "0.5", "0.1", "0", "-1", "1.0", "1e9",
                                         "abc", "", "nan"]), junk)
csv_cols = st.one_of(st.none(), st.sampled_from(["0", "1", "3", "id", "size", "-1", "x"]))


def test_generated_traces_through_baselines(tmp_path: Path) -> None:
    counts: collections.Counter = collections.Counter()
    per_format: collections.Counter = collections.Counter()
    traces = tmp_path / "traces"
    traces.mkdir()
    sentinel = traces / "keep.txt"
    sentinel.write_text("untouched\n")

    @settings(max_examples=n(300), **SETTINGS)
    @given(st.one_of(
        st.tuples(st.just("t.csv"), csv_text.map(lambda s: s.encode("utf-8", "replace")),
                  csv_cols, csv_cols),
        st.tuples(st.just("t.txt"), txt_text.map(lambda s: s.encode("utf-8", "replace")),
                  st.none(), st.none()),
        st.tuples(st.sampled_from(["t.oracleGeneral", "t.bin"]), oracle_bytes,
                  st.none(), st.none()),
        st.tuples(st.sampled_from(["t.csv", "t.txt", "t.bin", "t.zst", "t"]), st.binary(
            max_size=200), csv_cols, st.none())),
        cache_sizes, st.sampled_from([None, "csv", "txt", "oracleGeneral"]))
    def check(case: tuple[str, bytes, str | None, str | None], cache: str,
              fmt: str | None) -> None:
        name, data, id_col, size_col = case
        path = traces / name
        path.write_bytes(data)
        before = tree_hash(traces)
        args = ["baselines", "--trace", str(path), "--cache-size", cache, "--json"]
        if fmt is not None:
            args += ["--format", fmt]
        if id_col is not None:
            args += ["--id-col", id_col]
        if size_col is not None:
            args += ["--size-col", size_col]
        check_outcome(invoke(args), counts, args)
        per_format[fmt or name.rsplit(".", 1)[-1]] += 1
        assert tree_hash(traces) == before
        path.unlink()

    check()
    print(f"\ntraces (baselines --trace): {sum(counts.values())} tried "
          f"({dict(per_format)}): {dict(counts)}")


# ----------------------------------------------------------------------------- subprocesses


def test_a_few_bad_inputs_through_real_processes(tmp_path_factory, tmp_path: Path) -> None:
    """The same contract end to end: the console entry point, its exit code and stderr."""
    ref = reference_run(tmp_path_factory)
    run = tmp_path / "run"
    shutil.copytree(ref, run)
    before = tree_hash(run)
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("training:\n  max_episodes: [1\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("training:\n  max_episodez: 3\n")
    csv = tmp_path / "t.csv"
    csv.write_text("1\n2\nthree\n")
    binary = tmp_path / "t.bin"
    binary.write_bytes(b"\x01" * 25)
    cases = {
        "yaml-syntax": ["train", "-c", str(bad_yaml), "-o", str(run)],
        "unknown-key": ["train", "-c", str(unknown), "-o", str(run), "--resume", "auto"],
        "negative": ["train", "-o", str(run), "--resume", "auto", "--episodes", "-3"],
        "set-type": ["train", "-o", str(run), "--resume", "auto", "--set",
                     "rl.batch_size=many"],
        "other-run": ["train", "-o", str(run), "--episodes", "3"],
        "csv-line": ["baselines", "--trace", str(csv), "--cache-size", "1"],
        "bin-record": ["baselines", "--trace", str(binary), "--cache-size", "1"],
        "eval-episodes": ["evaluate", "--checkpoint", str(run), "--episodes", "0"],
    }
    from . import run_all

    results = run_all({k: chaos.rlcache_cmd(*v) for k, v in cases.items()}, width=4)
    for name, proc in results.items():
        line = assert_one_line_error(proc.returncode, proc.stderr, proc.stdout)
        assert line, name
    assert "t.csv:3" in results["csv-line"].stderr
    assert tree_hash(run) == before
    print(f"\nreal subprocesses: {len(cases)} bad inputs, all exit 2 with one line")


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


_ = subprocess  # (used through run_all)
