"""A request trace: object ids, sizes, and the (lazily computed) next-access index."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rlcache.errors import UserError

#: ``next_access[i]`` holds this value when request ``i``'s object is never requested again.
NEVER = np.iinfo(np.int64).max

# Non-negative ids below max(4 * len, _DENSE_MIN) index per-object arrays directly.
_DENSE_MIN = 1 << 20


class TraceError(UserError):
    """A trace file or trace value the user supplied is malformed."""


@dataclass(eq=False)
class Trace:
    """A sequence of requests for objects; ``ids`` are int64, ``sizes`` default to ones."""

    ids: np.ndarray
    sizes: np.ndarray | None = None
    name: str = "trace"

    def __post_init__(self) -> None:
        ids = np.asarray(self.ids)
        if ids.ndim != 1:
            raise TraceError(
                f"trace {self.name}: ids must be one-dimensional, got shape {ids.shape}"
            )
        if ids.dtype != np.int64:
            if ids.size and not np.issubdtype(ids.dtype, np.integer):
                raise TraceError(f"trace {self.name}: ids must be integers, got {ids.dtype}")
            ids = ids.astype(np.int64)
        self.ids = np.ascontiguousarray(ids)
        if self.sizes is None:
            self.sizes = np.ones(len(ids), dtype=np.int64)
        else:
            sizes = np.asarray(self.sizes, dtype=np.int64)
            if sizes.shape != ids.shape:
                raise TraceError(f"trace {self.name}: {len(sizes)} sizes for {len(ids)} requests")
            self.sizes = sizes

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Trace(name={self.name!r}, requests={len(self)})"

    @cached_property
    def next_access(self) -> np.ndarray:
        """Index of the next request for the same object, or ``NEVER`` (computed once)."""
        out = next_access_of(self.ids)
        if self.frozen:
            out.setflags(write=False)
        return out

    @property
    def frozen(self) -> bool:
        """Whether :meth:`freeze` made the arrays read-only (a Trace shared in the process)."""
        return bool(self.__dict__.get("_frozen", False))

    def freeze(self) -> Trace:
        """Make ``ids``, ``sizes`` and ``next_access`` read-only, for sharing; returns self.

        A frozen Trace's :meth:`split` halves are frozen and made once, so the sharers
        also share each half's next-access array.
        """
        self._frozen = True
        self.ids.setflags(write=False)
        self.sizes.setflags(write=False)
        if "next_access" in self.__dict__:
            self.__dict__["next_access"].setflags(write=False)
        return self

    @cached_property
    def _dense(self) -> tuple[np.ndarray, int, int, np.ndarray | None]:
        ids = self.ids
        n = len(ids)
        if n == 0:
            return ids, 0, 0, None
        lo, hi = int(ids.min()), int(ids.max())
        if lo >= 0 and hi < max(4 * n, _DENSE_MIN):
            counts = np.bincount(ids)
            return ids, hi + 1, int(np.count_nonzero(counts)), None
        uniq, inverse = np.unique(ids, return_inverse=True)
        return inverse.astype(np.int64).reshape(-1), len(uniq), len(uniq), uniq

    @property
    def object_index(self) -> np.ndarray:
        """Per request, a small non-negative int naming its object (below ``index_size``)."""
        return self._dense[0]

    @property
    def index_size(self) -> int:
        """Exclusive upper bound of ``object_index`` values, the length of per-object arrays."""
        return self._dense[1]

    @property
    def n_objects(self) -> int:
        """Number of distinct objects requested."""
        return self._dense[2]

    def object_id(self, index: int) -> int:
        """The trace id of the object whose ``object_index`` is ``index``."""
        uniq = self._dense[3]
        return int(index) if uniq is None else int(uniq[index])

    def slice(self, start: int, stop: int | None = None) -> Trace:
        """Requests ``start:stop`` as a new Trace (its next-access recomputed within it)."""
        sl = slice(start, stop)
        return Trace(self.ids[sl].copy(), self.sizes[sl].copy(), name=self.name)

    def split(self, frac: float) -> tuple[Trace, Trace]:
        """The first ``frac`` of the requests and the rest, as two Traces."""
        if not 0.0 < frac < 1.0:
            raise UserError(f"split fraction must be in (0, 1), got {frac}")
        halves = self.__dict__.setdefault("_halves", {}) if self.frozen else {}
        if frac not in halves:
            cut = round(len(self) * frac)
            first, second = self.slice(0, cut), self.slice(cut, None)
            halves[frac] = (first.freeze(), second.freeze()) if self.frozen else (first, second)
        return halves[frac]


def next_access_of(ids: np.ndarray) -> np.ndarray:
    """Vectorized next-access index for each request of ``ids`` (``NEVER`` if none)."""
    ids = np.asarray(ids)
    n = len(ids)
    out = np.full(n, NEVER, dtype=np.int64)
    if n < 2:
        return out
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    same = ordered[1:] == ordered[:-1]
    out[order[:-1][same]] = order[1:][same]
    return out
