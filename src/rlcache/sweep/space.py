"""The ``search:`` section: dotted config keys mapped to Tune search domains.

A sweep file's ``search:`` maps a dotted key (``rl.learning_rate``, ``training.patience``,
``env.alpha``) to exactly one of::

    {choice: [v1, v2, ...]}      one of the values, drawn at random
    {grid: [v1, v2, ...]}        every value (multiplies the trials)
    {uniform: [low, high]}       a float in [low, high)
    {loguniform: [low, high]}    a float, uniform in log space (low > 0)
    {randint: [low, high]}       an integer in [low, high)  (high excluded, as Tune's)

Each key, and the run config at every combination of the domains' extreme values, are
checked before Ray starts, so a typo, a wrong type or a value out of range is a one-line
error, not a failed trial. Nested
keys work too (``search: {rl: {gamma: ...}}``), so ``--set search.rl.gamma={grid: [0.9]}``
adds or replaces one entry.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping
from typing import Any

from rlcache.config import SECTIONS, RunConfig
from rlcache.errors import UserError

KINDS = ("choice", "grid", "uniform", "loguniform", "randint")
SEED_KEY = "training.seed"
SAMPLE_KEY = "_sample"
"""Param holding a pre-drawn sample (a dict of dotted keys) when seeds share one sample."""


def _example(kind: str, args: Any, key: str) -> list[Any]:
    """Check one domain's arguments; the values that must fit the config key."""
    where = f"search.{key}"
    if kind in ("choice", "grid"):
        if not isinstance(args, list) or not args:
            raise UserError(f"{where}: {kind} expects a non-empty list of values, got {args!r}")
        return list(args)
    if not isinstance(args, list) or len(args) != 2:
        raise UserError(f"{where}: {kind} expects [low, high], got {args!r}")
    low, high = args
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in args)
    if kind == "randint" and not all(isinstance(v, int) and not isinstance(v, bool)
                                     for v in args):
        raise UserError(f"{where}: randint expects two integers [low, high), got {args!r}")
    if not numbers:
        raise UserError(f"{where}: {kind} expects two numbers [low, high], got {args!r}")
    if not low < high:
        raise UserError(f"{where}: {kind} expects low < high, got {args!r}")
    if kind == "loguniform" and low <= 0:
        raise UserError(f"{where}: loguniform expects 0 < low < high, got {args!r}")
    # The extremes a draw can reach (high is excluded): the config's checks are ranges,
    # so a domain whose extremes pass has no invalid point in between.
    if kind == "randint":
        return [low, high - 1]
    return [low, math.nextafter(float(high), float(low))]


EXTREME_COMBINATIONS = 4096
"""At most this many combinations of the domains' extremes are checked together."""


def _number(value: Any) -> Any:
    """PyYAML reads ``1e-3`` as a string; treat it as the number it is."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def parse_search(search: Mapping[str, Any] | None, base: RunConfig) -> dict[str, tuple[str, Any]]:
    """Validate ``search:``; ``{dotted_key: (kind, args)}`` in file order."""
    if search is None:
        return {}
    if not isinstance(search, Mapping):
        raise UserError(f"search: expected a mapping of dotted keys to domains, e.g. "
                        f"rl.learning_rate: {{loguniform: [1e-4, 1e-2]}}, got {search!r}")
    parsed: dict[str, tuple[str, Any]] = {}
    extremes: dict[str, list[Any]] = {}
    for key, spec in _flatten(search).items():
        section = key.split(".", 1)[0]
        if section not in SECTIONS or "." not in key:
            raise UserError(f"search.{key}: expected a dotted key SECTION.KEY with section "
                            f"one of {', '.join(SECTIONS)}")
        if not isinstance(spec, Mapping) or len(spec) != 1:
            raise UserError(f"search.{key}: expected one of {{{': ..., '.join(KINDS)}: ...}}, "
                            f"got {spec!r}")
        ((kind, args),) = spec.items()
        if kind not in KINDS:
            raise UserError(f"search.{key}: unknown domain '{kind}' (valid: {', '.join(KINDS)})")
        if kind in ("uniform", "loguniform") and isinstance(args, list):
            args = [_number(v) for v in args]
        values = _example(kind, args, key)
        for value in values:
            apply_params(base.copy(), {key: value}, f"search.{key}")
        parsed[key] = (str(kind), args)
        extremes[key] = values
    check_points(base, extremes)
    return parsed


def check_points(base: RunConfig, extremes: Mapping[str, list[Any]]) -> None:
    """Validate the run config at every extreme value of each domain, then at every
    combination of them.

    What a trial would fail on (``rl.batch_size 0``, ``rl.gamma 1.585``) is a one-line
    error here, before Ray starts. Env keys go to the env, which checks them when it is
    built: each env value is built once.
    """
    for key, values in extremes.items():
        for value in values:
            config = apply_params(base.copy(), {key: value}, f"search.{key}")
            try:
                _check(config, key.startswith("env."))
            except UserError as exc:
                raise UserError(f"search.{key}: a trial would fail at {key}={_show(value)}: "
                                f"{exc}") from None
    keys = [k for k in extremes if not k.startswith("env.")]
    if len(keys) < 2:
        return
    for combo in itertools.islice(itertools.product(*(extremes[k] for k in keys)),
                                  EXTREME_COMBINATIONS):
        point = dict(zip(keys, combo, strict=True))
        try:
            apply_params(base.copy(), point, "search").validate()
        except UserError as exc:
            values = ", ".join(f"{k}={_show(v)}" for k, v in point.items())
            raise UserError(f"search: a trial would fail at {values}: {exc}") from None


def _check(config: RunConfig, build_env: bool) -> None:
    config.validate()
    if build_env:
        from rlcache.builders import check_buildable

        check_buildable(config)


def _show(value: Any) -> str:
    # An exclusive upper bound is checked just below it: show it as the bound it is.
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _flatten(search: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{rl: {gamma: {choice: ...}}}`` (as ``--set search.rl.gamma=...`` gives) to
    ``{"rl.gamma": {choice: ...}}``; a later entry for the same key wins."""
    flat: dict[str, Any] = {}
    for key, spec in search.items():
        name = f"{prefix}{key}"
        is_domain = (isinstance(spec, Mapping) and len(spec) == 1
                     and not isinstance(next(iter(spec.values())), Mapping))
        if isinstance(spec, Mapping) and spec and not is_domain:
            for sub, value in _flatten(spec, f"{name}.").items():
                flat.pop(sub, None)
                flat[sub] = value
        else:
            flat.pop(name, None)
            flat[name] = spec
    return flat


def param_space(parsed: Mapping[str, tuple[str, Any]], seeds: list[int] | None = None,
                samples: int = 1, rng_seed: int = 0) -> dict[str, Any]:
    """The Tune ``param_space`` for the parsed search, times ``seeds`` when given.

    With seeds and random domains, the random values are drawn here (``samples`` of
    them, reproducibly) so that every seed of a sample trains the same hyperparameters.
    """
    from ray import tune

    makers = {"choice": tune.choice, "uniform": lambda a: tune.uniform(*a),
              "loguniform": lambda a: tune.loguniform(*a), "randint": lambda a: tune.randint(*a)}
    space: dict[str, Any] = {}
    random: dict[str, Any] = {}
    for key, (kind, args) in parsed.items():
        if kind == "grid":
            space[key] = tune.grid_search(copy.deepcopy(args))
        else:
            random[key] = makers[kind](copy.deepcopy(args))
    if seeds:
        space[SEED_KEY] = tune.grid_search(list(seeds))
        if random:
            import numpy as np

            gen = np.random.default_rng(rng_seed)
            draws = [{k: _plain(d.sample(random_state=gen)) for k, d in random.items()}
                     for _ in range(samples)]
            space[SAMPLE_KEY] = tune.grid_search(draws)
            random = {}
    space.update(random)
    return space


def _plain(value: Any) -> Any:
    """A NumPy scalar as a plain Python value."""
    return value.item() if hasattr(value, "item") else value


def flat_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """A trial's Tune config as ``{dotted_key: value}`` (a pre-drawn sample unpacked)."""
    params = {k: v for k, v in config.items() if k != SAMPLE_KEY}
    params.update(config.get(SAMPLE_KEY) or {})
    return params


def apply_params(config: RunConfig, params: Mapping[str, Any], source: str) -> RunConfig:
    """Apply ``{dotted_key: value}`` to ``config`` in place (checked like ``--set``)."""
    for key, value in params.items():
        section, _, name = str(key).partition(".")
        config.apply({section: {name: value}}, source)
    return config
