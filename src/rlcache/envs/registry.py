"""make_env: the one place that maps an environment name to an instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from rlcache.errors import UserError


def _mock(**kwargs: Any) -> gym.Env:
    from rlcache.envs.mock import MockCacheEnvironment

    return MockCacheEnvironment(**kwargs)


def _cache(**kwargs: Any) -> gym.Env:
    from rlcache.envs.cache_env import CacheEnv

    return CacheEnv.from_kwargs(**kwargs)


ENVS: dict[str, Callable[..., gym.Env]] = {"mock": _mock, "cache": _cache}


def is_registered(name: str) -> bool:
    """True for our envs and ids already in Gymnasium's registry; imports nothing."""
    return name in ENVS or (":" not in name and name in gym.envs.registry)


def make_env(name: str, **kwargs: Any) -> gym.Env:
    """Our envs by name (``mock``, ``cache``) or any Gymnasium id such as ``CartPole-v1``."""
    factory = ENVS.get(name)
    try:
        if factory is not None:
            return factory(**kwargs)
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
