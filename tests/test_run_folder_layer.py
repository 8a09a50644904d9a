"""The run-folder layer sits below the command line: nothing under it imports ``cli``.

``rlcache.runs`` (run folder, resume, lock) is called by ``rlcache train``, ``rlcache
evaluate`` and the sweep's trial; the sweep, the trainer and the builders must not reach
up into ``rlcache.cli`` (read from the source, so a lazy import inside a function counts).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "rlcache"
BELOW_CLI = [SRC / "runs.py", SRC / "runlock.py", SRC / "builders.py", SRC / "config.py",
             *sorted((SRC / "sweep").glob("*.py")), *sorted((SRC / "training").glob("*.py"))]


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names, anywhere."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_nothing_below_the_cli_imports_it() -> None:
    offenders = {str(p.relative_to(SRC)): sorted(m for m in imported_modules(p)
                                                 if m == "rlcache.cli" or
                                                 m.startswith("rlcache.cli."))
                 for p in BELOW_CLI}
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(BELOW_CLI) > 10  # the globs found the packages
