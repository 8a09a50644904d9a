"""The one converter of config values: a YAML, ``--set`` or flag value to a field's type.

``RunConfig`` converts all three sections here (``env:`` through its env's registered
config class, ``CacheEnvConfig`` for the cache env), so a value is typed once, when the
config is loaded, and an error names the field, what was given and what is allowed. An
unknown key gets one message in every section (:func:`unknown_key`).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any, Union

import yaml

from rlcache.errors import UserError

_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def type_name(tp: Any) -> str:
    """How an error names the type ``tp`` (``a list of integers``)."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = " or ".join(type_name(a) for a in args)
        return f"{inner} or null"
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        plural = {int: "integers", float: "numbers", str: "strings", bool: "booleans"}
        return f"a list of {plural.get(arg, 'values')}"
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def is_null(value: Any) -> bool:
    """Whether ``value`` means "no value" (None, or empty / null / none / ~ as text)."""
    return value is None or (isinstance(value, str) and value.strip().lower() in
                             ("none", "null", "~", ""))


def coerce(value: Any, tp: Any, where: str) -> Any:
    """Convert ``value`` to the declared type ``tp`` or raise UserError naming ``where``."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return _coerce_union(value, tp, where)
    if origin is list:
        return _coerce_list(value, tp, where)
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes")
        raise type_error(value, tp, where)
    if tp in (int, float):
        return _coerce_number(value, tp, where)
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise type_error(value, tp, where)
    return value


def _coerce_union(value: Any, tp: Any, where: str) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if type(None) in typing.get_args(tp) and is_null(value):
        return None
    for arg in args:
        try:
            return coerce(value, arg, where)
        except UserError:
            continue
    raise type_error(value, tp, where)


def _coerce_list(value: Any, tp: Any, where: str) -> list[Any]:
    (arg,) = typing.get_args(tp) or (Any,)
    if isinstance(value, str):
        text = value.strip().strip("[]").strip()
        try:
            value = [yaml.safe_load(p) for p in text.split(",")] if text else []
        except yaml.YAMLError:  # e.g. a control character: not a list we can read
            raise type_error(value, tp, where) from None
    if not isinstance(value, (list, tuple)):
        raise type_error(value, tp, where)
    try:
        return [coerce(v, arg, where) for v in value]
    except UserError:
        raise type_error(value, tp, where) from None


def _coerce_number(value: Any, tp: type, where: str) -> int | float:
    """An int or a float; an int also from a whole float or text (``1e3``), never a bool."""
    if isinstance(value, bool):
        raise type_error(value, tp, where)
    if tp is int:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _FLOAT_RE.match(value.strip().replace("_", "")):
        number = float(value.strip().replace("_", ""))
        if tp is float:
            return number
        if number.is_integer():
            return int(number)
    raise type_error(value, tp, where)


def type_error(value: Any, tp: Any, where: str) -> UserError:
    """The one-line error for ``value`` not being a ``tp`` at ``where``."""
    return UserError(f"{where}: expected {type_name(tp)}, got {value!r} "
                     f"({type(value).__name__})")


def plain_number(value: Any) -> Any:
    """A YAML scalar that PyYAML left as a string but is clearly a number (``1e-3``)."""
    if isinstance(value, str) and _FLOAT_RE.match(value.strip()) and (
        "e" in value.lower() or "." in value
    ):
        return float(value)
    return value


def closest_hint(name: str, valid: Iterable[str]) -> str:
    """``; did you mean 'X'?`` for the valid name closest to ``name``, else nothing."""
    match = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.5)
    return f"; did you mean '{match[0]}'?" if match else ""


def field_types(cls: type) -> dict[str, Any]:
    """Declared type of every field of the dataclass ``cls``, by name."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def unknown_key(key: str, section: str, valid: Iterable[str], source: str,
                aliases: Mapping[str, str] | None = None) -> UserError:
    """The one error for a key ``section`` does not have, naming the closest valid key."""
    aliases = aliases or {}
    hint = closest_hint(key, [*valid, *aliases])
    if hint:
        target = hint.split("'")[1]
        hint = f"; did you mean '{aliases.get(target, target)}'?"
    return UserError(f"{source}: unknown key '{key}' in section '{section}'{hint}")
