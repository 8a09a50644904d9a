"""The layering of docs/ARCHITECTURE.md, enforced: no module imports across a forbidden arrow.

Every import in the source counts, including the lazy ones inside functions: a lazy import
still runs, so it still ties the layers together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "rlcache"

_UPPER = ("rlcache.cli",)
_TRAINING_STACK = ("rlcache.agents", "rlcache.training", "rlcache.builders", "rlcache.config",
                   "rlcache.runs", "rlcache.sweep", "rlcache.benchmark")

#: Module prefix -> import prefixes it must never use.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # The simulator is useful on its own: no ML framework, no env API, nothing above it.
    "rlcache.cache": ("torch", "gymnasium", "ray", "click", "rlcache.envs", "rlcache.policy",
                      "rlcache.serve", *_TRAINING_STACK, *_UPPER),
    "rlcache.engine": ("torch", "gymnasium", "ray", "click", "rlcache.envs", *_TRAINING_STACK,
                       *_UPPER),
    # Deployment loads and serves a policy with numpy: torch and training are not needed.
    "rlcache.serve": ("torch", "gymnasium", "ray", "click", *_TRAINING_STACK, *_UPPER),
    "rlcache.policy": ("gymnasium", "ray", "click", "rlcache.training", "rlcache.sweep",
                       *_UPPER),
    "rlcache.envs": ("torch", "ray", "click", *_TRAINING_STACK, *_UPPER),
    # Agents bundle their own state; they know nothing of trainers, envs or run folders.
    "rlcache.agents": ("gymnasium", "ray", "click", "rlcache.envs", "rlcache.training",
                       "rlcache.builders", "rlcache.runs", "rlcache.sweep", *_UPPER),
    "rlcache.training": ("ray", "click", "rlcache.builders", "rlcache.runs", "rlcache.sweep",
                         *_UPPER),
    "rlcache.errors": ("torch", "gymnasium", "ray", "click", "numpy", "rlcache.cache",
                       "rlcache.envs", *_TRAINING_STACK, *_UPPER),
    "rlcache.config": ("torch", "ray", "click", "rlcache.sweep", *_UPPER),
    "rlcache.builders": ("ray", "click", "rlcache.sweep", *_UPPER),
    "rlcache.runs": ("ray", "click", "rlcache.sweep", *_UPPER),
    # Evaluation stands below the Trainer, which uses it for its greedy episodes.
    "rlcache.evaluation": ("ray", "click", "rlcache.training", "rlcache.builders", "rlcache.runs",
                           "rlcache.sweep", "rlcache.benchmark", *_UPPER),
    "rlcache.cluster": ("torch", "gymnasium", "click", *_TRAINING_STACK, *_UPPER),
    "rlcache.testing_hooks": ("torch", "gymnasium", "ray", "click", "rlcache.cache",
                              "rlcache.envs", *_TRAINING_STACK, *_UPPER),
    "rlcache.jit_cache": ("torch", "gymnasium", "ray", "click", "numpy", "numba",
                          "rlcache.cache", "rlcache.engine", "rlcache.envs", *_TRAINING_STACK,
                          *_UPPER),
    "rlcache.lazy": ("torch", "rlcache.cache", "rlcache.engine", "rlcache.envs",
                     *_TRAINING_STACK, *_UPPER),
    "rlcache.sweep": _UPPER,
    "rlcache.benchmark": _UPPER,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import statement in ``path``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            # ``from rlcache import cli`` names a module in the alias, not in ``module``.
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _violations() -> list[str]:
    """One line per import statement that crosses a forbidden arrow."""
    bad: dict[tuple[Path, int, str], str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        rules = [p for p in FORBIDDEN if _within(module, p)]
        for line, name in _imports(path):
            for rule in rules:
                for banned in FORBIDDEN[rule]:
                    if _within(name, banned) and not _within(module, banned):
                        bad.setdefault((path, line, banned),
                                       f"{path.relative_to(SRC)}:{line}: {module} imports "
                                       f"{name} ({rule} must not import {banned})")
    return list(bad.values())


def test_no_module_imports_across_a_forbidden_arrow() -> None:
    """Every layer keeps to the arrows of docs/ARCHITECTURE.md."""
    assert _violations() == []


@pytest.mark.parametrize(("module", "source", "rule"), [
    ("rlcache/cache/fake.py", "import torch\n", "rlcache.cache must not import torch"),
    ("rlcache/sweep/fake.py", "from rlcache.cli.common import fail\n",
     "rlcache.sweep must not import rlcache.cli"),
    ("rlcache/training/fake.py", "def f():\n    from ..cli import common\n",
     "rlcache.training must not import rlcache.cli"),
    ("rlcache/cache/fake.py", "from rlcache import envs\n",
     "rlcache.cache must not import rlcache.envs"),
])
def test_the_checker_sees_forbidden_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            module: str, source: str, rule: str) -> None:
    """The checker catches top-level, lazy, relative and alias imports alike."""
    fake_src = tmp_path / "src"
    target = fake_src / module
    target.parent.mkdir(parents=True)
    target.write_text(source, encoding="utf-8")
    monkeypatch.setitem(globals(), "SRC", fake_src)
    monkeypatch.setitem(globals(), "PACKAGE", fake_src / "rlcache")
    found = _violations()
    assert len(found) == 1 and rule in found[0], found
