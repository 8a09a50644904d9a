"""Config text: reading a YAML config file, ``--set SECTION.KEY=VALUE`` assignments, and
writing a resolved config back as YAML (block mappings, lists of scalars on one line).

Only ``yaml.safe_load`` reads: a config file never constructs a Python object.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from rlcache.errors import UserError

SECTIONS = ("training", "rl", "env")
"""The run config's sections (a sweep adds its own through ``extra_sections``)."""


class _Dumper(yaml.SafeDumper):
    """Block-style mappings, lists of scalars on one line."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(v, (dict, list)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: dict[str, Any]) -> str:
    """``data`` as YAML text, in the order given."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file; one-line UserError for a missing file or bad syntax."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: config file not found")
    if p.is_dir():
        raise UserError(f"{p}: is a folder, expected a YAML config file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: cannot read config file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise UserError(f"{p}: nested too deeply to read (a config is a few levels: "
                        f"section, key, value)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{p}: YAML syntax error{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{p}: expected a mapping of sections ({', '.join(SECTIONS)}) at the "
                        f"top level, got {type(data).__name__}")
    return data


def parse_assignment(item: str, extra_sections: Sequence[str] = ()) -> dict[str, Any]:
    """``SECTION.KEY=VALUE`` -> ``{SECTION: {KEY: value}}`` with the value YAML-parsed."""
    if "=" not in item:
        raise UserError(f"--set {item}: expected SECTION.KEY=VALUE, e.g. rl.learning_rate=0.001")
    key, _, text = item.partition("=")
    parts = [p for p in key.strip().split(".")]
    if len(parts) < 2 or not all(parts):
        raise UserError(f"--set {item}: expected SECTION.KEY=VALUE with a section "
                        f"({', '.join((*SECTIONS, *extra_sections))}), e.g. "
                        f"rl.learning_rate=0.001")
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        value = text
    if parts[0] in SECTIONS and len(parts) != 2:
        raise UserError(f"--set {item}: expected SECTION.KEY=VALUE, got a key {len(parts)} "
                        f"levels deep")
    layer: Any = value
    for part in reversed(parts[1:]):
        layer = {part: layer}
    return {parts[0]: layer}
