"""The policy registry: each name once, the tuples derived from it, no import cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import rlcache.cache as cache
from rlcache.cache import EVAL_POLICIES, POLICIES, REGISTRY, generate, normalize_policy, simulate
from rlcache.errors import UserError

CACHE_SRC = Path(cache.__file__).parent


def test_names_are_registered_once_and_tuples_derive_from_it() -> None:
    assert tuple(REGISTRY) == POLICIES and len(set(POLICIES)) == len(POLICIES)
    assert set(EVAL_POLICIES) <= set(POLICIES)
    assert {"S3FIFO", "SIEVE", "LRU", "BELADY"} <= set(EVAL_POLICIES)
    assert "RANDOM" not in EVAL_POLICIES and "MRU" not in EVAL_POLICIES
    aliases = [a for p in REGISTRY.values() for a in (p.name, *p.aliases)]
    assert len(aliases) == len(set(aliases))


def test_aliases_and_unknown_names() -> None:
    assert normalize_policy(" min ") == "BELADY" and normalize_policy("s3-fifo") == "S3FIFO"
    with pytest.raises(UserError, match="SIEVE"):
        normalize_policy("nope")


def test_every_registered_replay_runs() -> None:
    tr = generate("zipf", 3_000, 300, seed=1)
    best = simulate(tr, "BELADY", 30).hits
    for name in POLICIES:
        res = simulate(tr, name, 30)
        assert res.policy == name and 0 < res.hits <= best, name


def _imports(module: str) -> set[str]:
    tree = ast.parse((CACHE_SRC / f"{module}.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_no_cycle_between_state_policies_and_registry() -> None:
    assert not {"rlcache.cache.state", "rlcache.cache.registry"} & _imports("policies")
    assert "rlcache.cache.registry" not in _imports("state")
    # Each module imports alone, in a fresh interpreter, in either order.
    for first in ("state", "registry", "policies"):
        code = f"import rlcache.cache.{first}; import rlcache.cache"
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
