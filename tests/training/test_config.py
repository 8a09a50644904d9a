"""TrainingConfig: original defaults, additions, validation messages."""

from __future__ import annotations

import pytest

from rlcache.errors import UserError
from rlcache.training import TrainingConfig


def test_original_defaults() -> None:
    cfg = TrainingConfig()
    assert (cfg.max_episodes, cfg.max_steps_per_episode, cfg.eval_frequency,
            cfg.eval_episodes, cfg.checkpoint_frequency, cfg.checkpoint_dir) == \
        (50000, 1000, 100, 10, 500, "checkpoints")
    assert (cfg.early_stopping, cfg.patience, cfg.min_episodes, cfg.seed,
            cfg.log_frequency, cfg.use_wandb, cfg.save_best_only, cfg.verbose,
            cfg.plot_frequency) == (True, 50, 1000, None, 10, False, True, True, 1000)
    assert (cfg.max_total_steps, cfg.min_delta, cfg.use_tensorboard, cfg.keep_last,
            cfg.save_replay_buffer, cfg.wandb_project) == (None, 0.0, False, 3, True, "rlcache")
    assert cfg.validate() is cfg


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("max_episodes", 0, "positive integer"),
    ("eval_frequency", 2.5, "positive integer"),
    ("patience", -1, "integer >= 0"),
    ("max_total_steps", 0, "positive integer or null"),
    ("min_delta", -0.1, "number >= 0"),
    ("early_stopping", "yes", "true or false"),
    ("keep_last", True, "positive integer"),
    ("checkpoint_dir", "", "non-empty string"),
    ("seed", -3, "integer in [0, 2**32)"),
])
def test_validation_names_field_value_and_allowed(field: str, value: object,
                                                  expected: str) -> None:
    with pytest.raises(UserError) as info:
        TrainingConfig(**{field: value}).validate()
    message = str(info.value)
    assert message.startswith(f"training.{field}:")
    assert expected in message and repr(value) in message
    assert "\n" not in message


def test_from_dict_rejects_unknown_key() -> None:
    with pytest.raises(UserError, match=r"training\.max_epsiodes: unknown setting"):
        TrainingConfig.from_dict({"max_epsiodes": 3})
    assert TrainingConfig.from_dict({"max_episodes": 3}).max_episodes == 3


def test_every_field_is_documented() -> None:
    import inspect

    from rlcache.training import config as module

    source = inspect.getsource(module.TrainingConfig)
    for name in TrainingConfig.__dataclass_fields__:
        after = source.split(f"    {name}:", 1)[1].split("\n", 2)
        assert after[1].strip().startswith('"""'), f"{name} has no docstring"
