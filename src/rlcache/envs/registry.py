"""The env names: each registered once, with its factory and, where it has one, its typed
config class (the cache env's ``CacheEnvConfig``, which ``RunConfig`` types the ``env:``
section with when the config is loaded)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from rlcache.errors import UserError


def _mock(**kwargs: Any) -> gym.Env:
    from rlcache.envs.mock import MockCacheEnvironment

    return MockCacheEnvironment(**kwargs)


def _cache(**kwargs: Any) -> gym.Env:
    from rlcache.envs.cache_config import CacheEnvConfig

    kwargs.pop("name", None)
    return _cache_typed(CacheEnvConfig.from_kwargs(**kwargs))


def _cache_typed(config: Any) -> gym.Env:
    from rlcache.envs.cache_env import CacheEnv

    if config.mix_episodes and config.mix and config.trace is None:
        from rlcache.envs.mix_env import MixEnv  # a part per episode (env.mix_episodes)

        return MixEnv(config)
    return CacheEnv(config)


def _cache_config() -> type:
    from rlcache.envs.cache_config import CacheEnvConfig

    return CacheEnvConfig


@dataclass(frozen=True)
class EnvSpec:
    """One registered env: its factory from keyword arguments, and its typed config."""

    make: Callable[..., gym.Env]
    make_typed: Callable[[Any], gym.Env] | None = None
    """Builds the env from an already validated config (no second check)."""
    config: Callable[[], type] | None = None
    """The typed config class (imported when first asked for)."""


ENVS: dict[str, EnvSpec] = {
    "mock": EnvSpec(_mock),
    "cache": EnvSpec(_cache, _cache_typed, _cache_config),
}


def is_registered(name: str) -> bool:
    """True for our envs and ids already in Gymnasium's registry; imports nothing."""
    return name in ENVS or (":" not in name and name in gym.envs.registry)


def config_class(name: str) -> type | None:
    """The typed config class registered with env ``name``, or None (mock, Gymnasium ids)."""
    spec = ENVS.get(name)
    return None if spec is None or spec.config is None else spec.config()


def make_typed_env(name: str, config: Any) -> gym.Env:
    """Env ``name`` from its validated typed ``config`` (see :meth:`RunConfig.env_config`)."""
    spec = ENVS[name]
    if spec.make_typed is None:
        raise ValueError(f"env {name!r} has no typed config")
    return spec.make_typed(config)


def make_env(name: str, **kwargs: Any) -> gym.Env:
    """Our envs by name (``mock``, ``cache``) or any Gymnasium id such as ``CartPole-v1``."""
    spec = ENVS.get(name)
    try:
        if spec is not None:
            return spec.make(**kwargs)
        return gym.make(name, **kwargs)
    except gym.error.Error as exc:
        raise UserError(
            f"env.name: unknown environment {name!r} ({exc}); expected "
            f"{', '.join(ENVS)} or a Gymnasium id such as CartPole-v1"
        ) from None
    except ImportError as exc:  # the module of a ``module:Env`` name the user gave
        raise UserError(f"env.name: cannot import the module of {name!r} ({exc.msg})") from None
    except TypeError as exc:
        raise UserError(f"env: bad argument for environment {name!r}: {exc}") from None
