"""The run config: ``training:``, ``rl:`` and ``env:`` sections, resolved in layers.

Precedence, lowest first: the dataclass defaults < a checkpoint's embedded config
(when resuming) < the YAML file < ``--set SECTION.KEY=VALUE`` < dedicated flags.
Every layer is checked the same way: an unknown key names its section and the
closest valid key, a value is converted to the field's declared type or rejected
with the field, the given value and the expected type.

``rl:`` holds the fields of :class:`~rlcache.agents.config.DQNConfig` except
``state_dim`` / ``action_dim`` (they come from the env), plus ``agent_type``
(``dqn`` | ``double_dqn``), which sets ``double_q``. ``env:`` holds ``name`` and
keyword arguments for :func:`rlcache.envs.make_env`; a layer that changes the env
name drops the keyword arguments given for the previous env. An env registered with a
typed config class (the cache env's ``CacheEnvConfig``) has its keys checked and typed
by the same converter as each layer is applied, and the whole section validated with
the rest (:meth:`RunConfig.env_config`), so no env re-checks it.

Callers that need more top-level sections (``search:`` and ``scheduler:`` of a
sweep) pass ``extra_sections``; such sections are kept as plain dicts in
``RunConfig.extra`` and are written back by ``to_dict()``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rlcache.agents.config import AGENT_TYPES, DQNConfig
from rlcache.config_yaml import SECTIONS, dump_yaml, parse_assignment, read_yaml
from rlcache.convert import closest_hint, coerce, field_types, plain_number, unknown_key
from rlcache.errors import UserError
from rlcache.training.config import TrainingConfig

RL_FROM_ENV = ("state_dim", "action_dim")
"""DQNConfig fields that are taken from the env's spaces, never from the config."""
ALIASES: dict[str, dict[str, str]] = {
    "training": {"episodes": "max_episodes", "total_steps": "max_total_steps"},
    "rl": {
        "discount": "gamma",
        "lr": "learning_rate",
        "target_update": "target_update_interval",
        "hidden_dims": "hidden_sizes",
        "memory_size": "buffer_size",
        "epsilon_min": "epsilon_end",
        "epsilon_final": "epsilon_end",
    },
    "env": {},
}
"""Names from the original code base that users know, mapped to today's field."""
DEFAULT_ENV = "mock"


# --------------------------------------------------------------------------- types


def training_field_types() -> dict[str, Any]:
    """Declared type of every ``training:`` key."""
    return field_types(TrainingConfig)


def rl_field_types() -> dict[str, Any]:
    """Declared type of every ``rl:`` key (DQNConfig minus env-given sizes, plus agent_type)."""
    types_ = {k: v for k, v in field_types(DQNConfig).items() if k not in RL_FROM_ENV}
    types_["agent_type"] = str
    return types_


def default_rl() -> dict[str, Any]:
    """The ``rl:`` section with every default filled in."""
    base = DQNConfig().to_dict()
    for name in RL_FROM_ENV:
        base.pop(name)
    base["agent_type"] = "double_dqn" if base["double_q"] else "dqn"
    return base


def env_config_class(name: str) -> Any:
    """The typed config class registered with env ``name`` (None if it has none)."""
    from rlcache.envs.registry import config_class

    return config_class(name)


# --------------------------------------------------------------------------- config


@dataclass
class RunConfig:
    """Everything one run needs: training settings, agent settings, env name and kwargs."""

    training: TrainingConfig = field(default_factory=TrainingConfig)
    rl: dict[str, Any] = field(default_factory=default_rl)
    env: dict[str, Any] = field(default_factory=lambda: {"name": DEFAULT_ENV})
    extra: dict[str, Any] = field(default_factory=dict)
    """Extra top-level sections a caller asked for (e.g. ``search:``, ``scheduler:``)."""
    env_source: str = field(default="defaults", compare=False, repr=False)
    """The layer that last named the env (a checkpoint's config may only name registered
    envs: see ``rlcache.runs.check_env_name``)."""
    _env_typed: tuple[dict[str, Any], Any] | None = field(default=None, init=False,
                                                         compare=False, repr=False)
    """The env section it was built from, and its typed config (see ``env_config``)."""

    # ------------------------------------------------------------------ layers

    def apply(self, layer: Mapping[str, Any] | None, source: str,
              extra_sections: Sequence[str] = ()) -> RunConfig:
        """Apply one layer ``{section: {key: value}}`` in place; ``source`` names it in errors."""
        if layer is None:
            return self
        if not isinstance(layer, Mapping):
            raise UserError(f"{source}: expected a mapping of sections "
                            f"({', '.join(SECTIONS)}), got {type(layer).__name__}")
        valid = (*SECTIONS, *extra_sections)
        for section, values in layer.items():
            section = str(section)
            if section not in valid:
                raise UserError(f"{source}: unknown section '{section}' (valid: "
                                f"{', '.join(valid)}){closest_hint(section, valid)}")
            if section in SECTIONS and values is None:
                continue
            if section in SECTIONS and not isinstance(values, Mapping):
                raise UserError(f"{source}: section '{section}' must be a mapping of "
                                f"key: value, got {type(values).__name__}")
            if section == "training":
                self._apply_training(values, source)
            elif section == "rl":
                self._apply_rl(values, source)
            elif section == "env":
                self._apply_env(values, source)
            else:
                self.extra[section] = _merge(self.extra.get(section), copy.deepcopy(values))
        return self

    def _canonical(self, section: str, key: Any, valid: Iterable[str], source: str) -> str:
        key = str(key)
        aliases = ALIASES.get(section, {})
        key = aliases.get(key, key)
        valid = list(valid)
        if key not in valid:
            raise unknown_key(key, section, valid, source, aliases)
        return key

    def _apply_training(self, values: Mapping[str, Any], source: str) -> None:
        types_ = training_field_types()
        seen: dict[str, str] = {}
        for raw_key, value in values.items():
            key = self._canonical("training", raw_key, types_, source)
            _no_duplicate(seen, key, str(raw_key), "training", source)
            setattr(self.training, key, coerce(value, types_[key], f"training.{key} ({source})"))

    def _apply_rl(self, values: Mapping[str, Any], source: str) -> None:
        types_ = rl_field_types()
        seen: dict[str, str] = {}
        updates: dict[str, Any] = {}
        for raw_key, value in values.items():
            if str(raw_key) in RL_FROM_ENV:
                raise UserError(f"{source}: rl.{raw_key} is taken from the env's spaces and "
                                f"cannot be set")
            key = self._canonical("rl", raw_key, types_, source)
            _no_duplicate(seen, key, str(raw_key), "rl", source)
            updates[key] = coerce(value, types_[key], f"rl.{key} ({source})")
        if "agent_type" in updates:
            agent_type = str(updates["agent_type"]).lower().replace("-", "_")
            if agent_type not in AGENT_TYPES:
                raise UserError(f"rl.agent_type ({source}): expected one of "
                                f"{', '.join(AGENT_TYPES)}, got {updates['agent_type']!r}")
            double_q = agent_type == "double_dqn"
            if "double_q" in updates and updates["double_q"] != double_q:
                raise UserError(f"{source}: rl.agent_type {agent_type} contradicts "
                                f"rl.double_q {updates['double_q']}")
            updates["agent_type"], updates["double_q"] = agent_type, double_q
        elif "double_q" in updates:
            updates["agent_type"] = "double_dqn" if updates["double_q"] else "dqn"
        self.rl.update(updates)

    def _apply_env(self, values: Mapping[str, Any], source: str) -> None:
        values = dict(values)
        if "name" in values:
            name = values.pop("name")
            if not isinstance(name, str) or not name.strip():
                raise UserError(f"env.name ({source}): expected an env name (mock, cache or a "
                                f"Gymnasium id), got {name!r}")
            if name != self.env.get("name"):
                self.env = {"name": name}
            self.env_source = source
        typed = env_config_class(self.env_name)
        for key, value in values.items():
            # A registered env's keys are checked and typed here, layer by layer; other
            # envs (Gymnasium ids, mock) take their keyword arguments as they come.
            self.env[str(key)] = (plain_number(value) if typed is None
                                  else typed.convert(str(key), value, source))

    def apply_sets(self, assignments: Sequence[str],
                   extra_sections: Sequence[str] = ()) -> RunConfig:
        """Apply ``--set SECTION.KEY=VALUE`` strings in order (values are YAML-parsed)."""
        for item in assignments:
            layer = parse_assignment(item, extra_sections)
            self.apply(layer, f"--set {item}", extra_sections)
        return self

    # ------------------------------------------------------------------ checks

    def validate(self) -> RunConfig:
        """Check ranges (counts > 0 and so on); UserError naming the field otherwise."""
        self.training.validate()
        self.dqn_config(60, 7, check_network=False).validate()
        self.check_exploration_budget()
        self.env_config()
        return self

    def env_config(self) -> Any:
        """The ``env:`` section as its registered env's typed config, validated once.

        None for an env without one (mock, Gymnasium ids). The object is kept and handed
        out again while the section is unchanged; envs built from it do not re-check it.
        """
        typed = env_config_class(self.env_name)
        if typed is None:
            return None
        if self._env_typed is None or self._env_typed[0] != self.env:
            self._env_typed = (copy.deepcopy(self.env), typed.from_kwargs(**self.env_kwargs))
        return self._env_typed[1]

    def check_exploration_budget(self) -> None:
        """UserError if rl.exploration_fraction is set without a step budget to divide."""
        if self.rl.get("exploration_fraction") is not None and \
                self.training.max_total_steps is None:
            raise UserError("rl.exploration_fraction needs a step budget: set "
                            "training.max_total_steps (or --steps), or use rl.exploration_steps")

    def dqn_config(self, state_dim: int, action_dim: int, *,
                   check_network: bool = True) -> DQNConfig:
        """The agent config for an env with these observation and action sizes."""
        values = {k: copy.deepcopy(v) for k, v in self.rl.items() if k != "agent_type"}
        values["double_q"] = self.rl.get("agent_type", "dqn") == "double_dqn"
        if not check_network:
            values["network"] = "mlp"
        if values.get("seed") is None:
            values["seed"] = self.training.seed
        return DQNConfig(state_dim=state_dim, action_dim=action_dim, **values)

    @property
    def env_name(self) -> str:
        """The env's name (``mock``, ``cache`` or a Gymnasium id)."""
        return str(self.env.get("name", DEFAULT_ENV))

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``make_env`` besides the name."""
        return {k: copy.deepcopy(v) for k, v in self.env.items() if k != "name"}

    # ------------------------------------------------------------------ dicts

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain data (embedded in checkpoints, written to config.yaml)."""
        out: dict[str, Any] = {
            "training": asdict(self.training),
            "rl": copy.deepcopy(self.rl),
            "env": copy.deepcopy(self.env),
        }
        for name, value in self.extra.items():
            out[name] = copy.deepcopy(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "config",
                  extra_sections: Sequence[str] = ()) -> RunConfig:
        """Defaults overlaid with ``data`` (strictly checked), e.g. a checkpoint's config."""
        return cls().apply(data, source, extra_sections)

    def to_yaml(self) -> str:
        """The resolved config as YAML text."""
        return dump_yaml(self.to_dict())

    def copy(self) -> RunConfig:
        """A deep copy."""
        return copy.deepcopy(self)


def _merge(base: Any, update: Any) -> Any:
    if isinstance(base, dict) and isinstance(update, Mapping):
        out = dict(base)
        for key, value in update.items():
            out[key] = _merge(out.get(key), value)
        return out
    return update


def _no_duplicate(seen: dict[str, str], key: str, raw: str, section: str, source: str) -> None:
    if key in seen and seen[key] != raw:
        raise UserError(f"{source}: {section}.{seen[key]} and {section}.{raw} set the same "
                        f"key; keep one")
    seen[key] = raw


def load_run_config(
    config_path: str | Path | None = None,
    sets: Sequence[str] = (),
    flags: Mapping[str, Any] | None = None,
    *,
    base: RunConfig | Mapping[str, Any] | None = None,
    extra_sections: Sequence[str] = (),
    flag_names: Mapping[str, str] | None = None,
    validate: bool = True,
) -> RunConfig:
    """Resolve a run config: defaults (or ``base``) < YAML file < ``--set`` < ``flags``.

    ``flags`` maps dotted keys (``training.max_episodes``) to values of dedicated
    command-line options; ``None`` values mean "not given" and are skipped.
    ``flag_names`` maps the same keys to the option's name for error messages.
    """
    if isinstance(base, RunConfig):
        config = base.copy()
    elif base is not None:
        config = RunConfig.from_dict(base, "checkpoint config", extra_sections)
    else:
        config = RunConfig()
    if config_path is not None:
        config.apply(read_yaml(config_path), str(config_path), extra_sections)
    flags = {key: value for key, value in (flags or {}).items() if value is not None}
    # Naming another env drops the previous env's keys, so the name flag goes before
    # --set: env keys set on the same command line are for the env the flag names.
    if "env.name" in flags:
        config.apply({"env": {"name": flags["env.name"]}},
                     (flag_names or {}).get("env.name", "--env"))
    config.apply_sets(list(sets), extra_sections)
    for key, value in flags.items():
        section, _, name = key.partition(".")
        source = (flag_names or {}).get(key, f"--{name.replace('_', '-')}")
        config.apply({section: {name: value}}, source, extra_sections)
    if validate:
        config.validate()
    return config
