"""Where the four real traces of ``../shared/traces`` are, from the main checkout or a worktree."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def shared_traces() -> Path | None:
    """The shared traces folder (``$RLCACHE_SHARED_TRACES`` first), or None when absent."""
    env = os.environ.get("RLCACHE_SHARED_TRACES")
    candidates = [Path(env)] if env else []
    candidates += [_ROOT.parent / "shared" / "traces", _ROOT.parents[1] / "shared" / "traces"]
    return next((c for c in candidates if (c / "README.md").exists()), None)
