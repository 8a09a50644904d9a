"""The run config (rlcache.config) and the builders, in process."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rlcache import builders, runs
from rlcache.agents import DQNConfig
from rlcache.config import RunConfig, default_rl, load_run_config, parse_assignment, read_yaml
from rlcache.errors import UserError
from rlcache.training import TrainingConfig

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_are_the_dataclass_defaults() -> None:
    config = load_run_config()
    assert asdict(config.training) == asdict(TrainingConfig())
    dqn = DQNConfig().to_dict()
    assert {k: config.rl[k] for k in dqn if k not in ("state_dim", "action_dim")} == \
        {k: v for k, v in dqn.items() if k not in ("state_dim", "action_dim")}
    assert config.rl["agent_type"] == "dqn" and config.env == {"name": "mock"}


def test_precedence_defaults_yaml_set_flags(tmp_path: Path) -> None:
    path = write(tmp_path, "training:\n  seed: 1\n  max_episodes: 10\nrl:\n  lr: 0.01\n"
                           "  discount: 0.9\n")
    config = load_run_config(path, ["training.seed=2", "rl.learning_rate=0.02"],
                             {"training.seed": 3, "training.max_episodes": None})
    assert config.training.seed == 3  # flag > --set > YAML
    assert config.rl["learning_rate"] == 0.02  # --set > YAML (alias lr)
    assert config.training.max_episodes == 10  # None flag = not given
    assert config.rl["gamma"] == 0.9  # the seed's name `discount`
    assert config.training.patience == 50  # default


def test_checkpoint_base_is_below_yaml() -> None:
    base = load_run_config(sets=["training.max_episodes=5", "env.episode_length=30"])
    config = load_run_config(sets=["training.eval_episodes=2"], base=base.to_dict())
    assert config.training.max_episodes == 5 and config.env["episode_length"] == 30
    assert config.training.eval_episodes == 2


def test_shipped_configs_load() -> None:
    for name in ("default.yaml", "mock.yaml", "cartpole.yaml"):
        load_run_config(CONFIGS / name)
    cartpole = load_run_config(CONFIGS / "cartpole.yaml")
    rl = cartpole.rl
    assert (rl["learning_rate"], rl["batch_size"], rl["buffer_size"], rl["learning_starts"],
            rl["gamma"], rl["target_update_interval"], rl["train_freq"], rl["gradient_steps"],
            rl["exploration_fraction"], rl["epsilon_end"], rl["hidden_sizes"]) == \
        (2.3e-3, 64, 100_000, 1000, 0.99, 10, 256, 128, 0.16, 0.04, [256, 256])
    assert cartpole.training.max_total_steps == 50_000 and cartpole.env_name == "CartPole-v1"
    assert builders.exploration_steps(cartpole) == 8000


def test_unknown_keys_and_sections_name_the_closest(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"unknown key 'learning_rat' in section 'rl'; "
                                        r"did you mean 'learning_rate'"):
        load_run_config(write(tmp_path, "rl:\n  learning_rat: 1\n"))
    with pytest.raises(UserError, match=r"'max_episode'.*'training'.*'max_episodes'"):
        load_run_config(sets=["training.max_episode=3"])
    with pytest.raises(UserError, match=r"unknown section 'trainig'.*did you mean 'training'"):
        load_run_config(write(tmp_path, "trainig:\n  seed: 1\n"))


def test_extra_sections_only_when_asked(tmp_path: Path) -> None:
    path = write(tmp_path, "search:\n  rl.learning_rate: {loguniform: [1.0e-4, 1.0e-2]}\n"
                           "scheduler:\n  type: asha\n")
    with pytest.raises(UserError, match="unknown section 'search'"):
        load_run_config(path)
    config = load_run_config(path, ["scheduler.grace=3"], extra_sections=("search", "scheduler"))
    assert config.extra["scheduler"] == {"type": "asha", "grace": 3}
    again = RunConfig.from_dict(config.to_dict(), extra_sections=("search", "scheduler"))
    assert again.to_dict() == config.to_dict()


@pytest.mark.parametrize("assignment,match", [
    ("rl.learning_rate=fast", r"rl.learning_rate.*expected a number, got 'fast'"),
    ("training.max_episodes=2.5", r"training.max_episodes.*expected an integer, got 2.5"),
    ("training.early_stopping=maybe", r"training.early_stopping.*true or false"),
    ("rl.hidden_sizes=[64, x]", r"rl.hidden_sizes.*list of integers"),
    ("rl.agent_type=ppo", r"rl.agent_type.*dqn, double_dqn"),
    ("training.max_episodes=0", r"training.max_episodes: expected a positive integer, got 0"),
    ("rl.batch_size=-1", r"rl.batch_size: expected a positive integer, got -1"),
    ("rl.state_dim=4", r"taken from the env"),
    ("learning_rate=1", r"expected SECTION.KEY=VALUE"),
    ("rl.learning_rate", r"expected SECTION.KEY=VALUE"),
])
def test_bad_values_are_one_line_user_errors(assignment: str, match: str) -> None:
    with pytest.raises(UserError, match=match) as info:
        load_run_config(sets=[assignment])
    assert "\n" not in str(info.value)


def test_types_are_converted() -> None:
    config = load_run_config(sets=[
        "rl.learning_rate=1e-4", "training.max_total_steps=1e4", "training.seed=null",
        "rl.hidden_sizes=64,32", "rl.max_grad_norm=none", "training.verbose=no",
        "rl.gamma=1", "training.checkpoint_dir=ckpts"])
    assert config.rl["learning_rate"] == 1e-4 and config.training.max_total_steps == 10_000
    assert config.training.seed is None and config.rl["hidden_sizes"] == [64, 32]
    assert config.rl["max_grad_norm"] is None and config.training.verbose is False
    assert isinstance(config.rl["gamma"], float)


def test_yaml_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"missing.yaml: config file not found"):
        read_yaml(tmp_path / "missing.yaml")
    bad = write(tmp_path, "training:\n  seed: 1\n  patience: : 2\n")
    with pytest.raises(UserError, match=r"c.yaml: YAML syntax error at line 3"):
        read_yaml(bad)
    with pytest.raises(UserError, match=r"expected a mapping of sections"):
        read_yaml(write(tmp_path, "- 1\n- 2\n", "list.yaml"))
    with pytest.raises(UserError, match=r"section 'rl' must be a mapping"):
        load_run_config(write(tmp_path, "rl: 3\n", "scalar.yaml"))
    assert read_yaml(write(tmp_path, "", "empty.yaml")) == {}


def test_agent_type_and_double_q_agree() -> None:
    assert load_run_config(sets=["rl.agent_type=double_dqn"]).rl["double_q"] is True
    assert load_run_config(sets=["rl.double_q=true"]).rl["agent_type"] == "double_dqn"
    assert load_run_config(sets=["rl.double_q=true"],
                           flags={"rl.agent_type": "dqn"}).rl["double_q"] is False
    with pytest.raises(UserError, match="contradicts"):
        load_run_config(base={"rl": {"agent_type": "dqn", "double_q": True}})
    with pytest.raises(UserError, match="set the same key"):
        load_run_config(base={"rl": {"gamma": 0.9, "discount": 0.8}})


def test_changing_the_env_drops_the_old_env_arguments(tmp_path: Path) -> None:
    mock_yaml = tmp_path / "mock.yaml"
    mock_yaml.write_text("env:\n  name: mock\n  episode_length: 30\n")
    config = load_run_config(mock_yaml, flags={"env.name": "CartPole-v1"})
    assert config.env == {"name": "CartPole-v1"}
    same = load_run_config(mock_yaml, flags={"env.name": "mock"})
    assert same.env == {"name": "mock", "episode_length": 30}


def test_env_keys_set_beside_the_env_flag_belong_to_that_env() -> None:
    # --env cache --set env.requests=5000 once lost the key to the name switch.
    config = load_run_config(sets=["env.requests=5000"], flags={"env.name": "cache"})
    assert config.env == {"name": "cache", "requests": 5000}
    flag_wins = load_run_config(sets=["env.name=mock"], flags={"env.name": "cache"})
    assert flag_wins.env_name == "cache"


def test_round_trip_through_dict_and_yaml() -> None:
    config = load_run_config(CONFIGS / "cartpole.yaml", ["rl.dueling=true"])
    data = config.to_dict()
    assert RunConfig.from_dict(data).to_dict() == data
    assert RunConfig.from_dict(yaml.safe_load(config.to_yaml())).to_dict() == data
    assert set(data) == {"training", "rl", "env"} and "state_dim" not in data["rl"]
    assert data["rl"].keys() == default_rl().keys()


def test_parse_assignment_yaml_values() -> None:
    assert parse_assignment("rl.hidden_sizes=[8, 8]") == {"rl": {"hidden_sizes": [8, 8]}}
    assert parse_assignment("env.trace=a=b.csv") == {"env": {"trace": "a=b.csv"}}
    assert parse_assignment("search.rl.lr={choice: [1, 2]}", ("search",)) == \
        {"search": {"rl": {"lr": {"choice": [1, 2]}}}}


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=-10**6, max_value=10**6))
def test_counts_round_trip_or_are_refused(n: int) -> None:
    if n > 0:
        assert load_run_config(sets=[f"training.eval_episodes={n}"]).training.eval_episodes == n
    else:
        with pytest.raises(UserError, match=r"training\.eval_episodes"):
            load_run_config(sets=[f"training.eval_episodes={n}"])


def test_build_agent_sizes_and_exploration() -> None:
    config = load_run_config(CONFIGS / "cartpole.yaml", ["rl.buffer_size=1000"])
    env = builders.build_env(config, seed=0)
    agent = builders.build_agent(config, env)
    assert (agent.config.state_dim, agent.config.action_dim) == (4, 2)
    assert agent.config.exploration_steps == 8000 and agent.config.seed == 0
    mock = load_run_config(sets=["rl.buffer_size=1000", "training.seed=5"])
    agent = builders.build_agent(mock, builders.build_env(mock))
    assert (agent.config.state_dim, agent.config.action_dim, agent.config.seed) == (60, 7, 5)
    with pytest.raises(UserError, match="exploration_fraction needs a step budget"):
        load_run_config(sets=["rl.exploration_fraction=0.1"])
    unchecked = load_run_config(sets=["rl.exploration_fraction=0.1"], validate=False)
    with pytest.raises(UserError, match="exploration_fraction needs a step budget"):
        builders.build_agent(unchecked, builders.build_env(unchecked))


def test_resume_helpers(tmp_path: Path) -> None:
    assert runs.resolve_resume(None, tmp_path) is None
    assert runs.resolve_resume("auto", tmp_path / "empty") is None
    with pytest.raises(UserError, match="not found"):
        runs.resolve_resume(tmp_path / "nope.pt", tmp_path)
    with pytest.raises(UserError, match="needs --output"):
        runs.resolve_resume("auto", None)
    run = tmp_path / "run"
    assert not runs.holds_run(run)
    (run / "checkpoints").mkdir(parents=True)
    assert not runs.holds_run(run)
    (run / "checkpoints" / "latest.json").write_text("{}")
    assert runs.holds_run(run)
    assert runs.checkpoint_run_dir(run / "checkpoints" / "latest.pt") == run
    assert runs.checkpoint_run_dir(run) == run


def test_resumed_run_keeps_its_epsilon_schedule() -> None:
    from rlcache.training.checkpoint import LoadedCheckpoint

    old = load_run_config(CONFIGS / "cartpole.yaml")
    loaded = LoadedCheckpoint(Path("latest.pt"), {"episode": 3}, {"run_config": old.to_dict()})
    longer = load_run_config(base=old.to_dict(), flags={"training.max_total_steps": 100_000})
    runs.pin_schedule(longer, loaded)
    assert builders.exploration_steps(longer) == 8000  # 0.16 of the original 50,000
    same = runs.pin_schedule(load_run_config(base=old.to_dict()), loaded)
    assert same.rl["exploration_fraction"] == 0.16


# --------------------------------------------------------------------------- env section

SMALL_CACHE = {"env.name": "cache", "env.requests": 3_000, "env.objects": 300,
               "env.window": 500}


def test_env_section_is_typed_per_layer_and_checked_at_load(tmp_path: Path) -> None:
    cfg = write(tmp_path, "env: {name: cache, cache_size: '0.05', candidates: 'lru, lfu'}\n")
    config = load_run_config(cfg, sets=["env.window=100"], flags={"env.warmup": "40"})
    assert config.env["cache_size"] == 0.05 and config.env["window"] == 100
    assert config.env["warmup"] == 40 and config.env["candidates"] == ["lru", "lfu"]
    with pytest.raises(UserError, match=r"^--set env\.windw=3: unknown key 'windw' in "
                                        r"section 'env'; did you mean 'window'\?$"):
        load_run_config(cfg, sets=["env.windw=3"])
    with pytest.raises(UserError, match=r"^env\.requests \(--set env\.requests=many\): "
                                        r"expected an integer"):
        load_run_config(cfg, sets=["env.requests=many"])
    # Ranges and vocabularies are checked with the rest of the config, not by the env.
    with pytest.raises(UserError, match=r"^env\.cache_size: cache size 'lots'"):
        load_run_config(cfg, sets=["env.cache_size=lots"])
    with pytest.raises(UserError, match=r"^env\.reward: expected one of"):
        load_run_config(cfg, sets=["env.reward=misses"])
    # Other envs take their keyword arguments as they come.
    assert load_run_config(sets=["env.episode_length=20"]).env["episode_length"] == 20


def test_env_config_is_validated_once_and_envs_do_not_recheck(monkeypatch) -> None:
    from rlcache.envs.cache_config import CacheEnvConfig

    config = load_run_config(flags=SMALL_CACHE)
    calls = []
    real = CacheEnvConfig.validate
    monkeypatch.setattr(CacheEnvConfig, "validate",
                        lambda self: calls.append(1) or real(self))
    typed = config.env_config()
    first, second = builders.build_env(config, 1), builders.build_env(config, 2)
    assert calls == [] and first.config is typed and second.config is typed
    config.env["window"] = 400  # a changed section is converted and validated again
    assert config.env_config().window == 400 and calls == [1]


@pytest.mark.parametrize("features", ["basic", "extended", "sourced", "history"])
def test_dry_run_check_needs_no_trace_and_gives_the_env_sizes(features: str) -> None:
    missing = load_run_config(flags={"env.name": "cache", "env.trace": "/nonexistent/t.csv",
                                     "env.features": features})
    dims = builders.check_buildable(missing)  # no file is read
    env = builders.build_env(load_run_config(flags={**SMALL_CACHE, "env.features": features}))
    assert dims == builders.env_dims(env)
    assert missing.rl["candidate_features"] == env.candidate_features
    assert missing.rl["global_features"] == env.global_features
