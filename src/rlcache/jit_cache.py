"""Keep numba's on-disk kernel cache in step with the sources it was compiled from.

numba (``cache=True``) checks only the timestamp of the file that defines a kernel, but our
kernels inline helpers and constants from sibling files (``engine/_state.py``,
``engine/_layout.py``): after such a file changes, the cached machine code of its callers
is stale and would run silently (found when a moved helper kept its old behaviour). So
each compiled package calls :func:`guard` before its kernels load: when the digest of the
package's sources differs from the one stored beside the cache, the package's cached
kernels are dropped and numba compiles them again once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_STAMP = "rlcache-jit.stamp"


def sources_digest(package_dir: Path) -> str:
    """SHA-256 over the names and contents of the package's ``.py`` files."""
    h = hashlib.sha256()
    for path in sorted(package_dir.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def guard(package_file: str) -> bool:
    """Drop the package's cached kernels when its sources changed; True when dropped.

    Only the in-tree cache (``__pycache__`` beside the sources, numba's default) is
    checked; a read-only install has nothing to drop there and is left alone.
    """
    if os.environ.get("NUMBA_DISABLE_JIT") == "1":
        return False
    package_dir = Path(package_file).resolve().parent
    cache_dir = package_dir / "__pycache__"
    stamp = cache_dir / _STAMP
    digest = sources_digest(package_dir)
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    try:
        for path in cache_dir.glob("*.nb[ic]"):
            path.unlink(missing_ok=True)
        cache_dir.mkdir(exist_ok=True)
        tmp = cache_dir / f"{_STAMP}.{os.getpid()}"
        tmp.write_text(digest)
        os.replace(tmp, stamp)  # atomic: a concurrent reader sees the old or the new stamp
    except OSError:
        return False
    return True
