"""The numba cache guard drops a package's cached kernels when any of its sources change."""

from __future__ import annotations

from pathlib import Path

from rlcache.jit_cache import guard


def _package(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    (pkg / "__pycache__").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_layout.py").write_text("N = 3\n")
    (pkg / "_kernel.py").write_text("from pkg._layout import N\n")
    return pkg


def _cached(pkg: Path) -> list[str]:
    for name in ("_kernel.f-1.py311.nbi", "_kernel.f-1.py311.1.nbc"):
        (pkg / "__pycache__" / name).write_bytes(b"machine code")
    return sorted(p.name for p in (pkg / "__pycache__").glob("*.nb?"))


def test_a_changed_sibling_drops_the_cached_kernels_once(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    init = str(pkg / "__init__.py")
    assert guard(init)  # no stamp yet: whatever is cached is of unknown provenance
    assert len(_cached(pkg)) == 2
    assert not guard(init)  # same sources: the cache is kept
    assert len(_cached(pkg)) == 2
    (pkg / "_layout.py").write_text("N = 4\n")  # the file numba does not check
    assert guard(init)
    assert list((pkg / "__pycache__").glob("*.nb?")) == []
    assert not guard(init)
    (pkg / "__pycache__" / "keep.pyc").write_bytes(b"")  # Python's own cache is not ours
    (pkg / "_kernel.py").write_text("from pkg._layout import N  # edited\n")
    assert guard(init) and (pkg / "__pycache__" / "keep.pyc").exists()


def test_an_unwritable_cache_folder_is_left_alone(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    (pkg / "__pycache__").rmdir()
    (pkg / "__pycache__").write_text("a file where the folder would be")
    assert guard(str(pkg / "__init__.py")) is False
