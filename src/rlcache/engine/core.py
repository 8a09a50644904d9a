"""``Engine``: the learned (or a classic) eviction policy over array state, compiled.

See the package docstring (:mod:`rlcache.engine`) for the API and its guarantees.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numba
import numpy as np

from rlcache.cache.policies import HALF_LIFE_CAPACITIES, check_capacity
from rlcache.cache.state import SOURCES
from rlcache.engine import _layout as K
from rlcache.engine._kernel import serve, serve_packed
from rlcache.engine._packed import pack
from rlcache.engine._scorer import choose_rows

FEATURE_SETS = ("basic", "extended")
_W_CHUNK = 1 << 16
_EPOCH = 256  # CacheState._EPOCH: rebase the decayed counts every 256 half-lives


class Scorer:
    """The per-candidate MLP from plain numpy weights: ``[(W, b), ...]``, ReLU between.

    ``W`` has shape (out, in) as in ``torch.nn.Linear``; the first layer's input is one
    candidate's features followed by the globals, the last layer has one output.
    """

    def __init__(self, layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        if not layers:
            raise ValueError("a scorer needs at least one (W, b) layer")
        sizes = [int(np.shape(layers[0][0])[1])]
        mats: list[tuple[np.ndarray, np.ndarray]] = []
        for i, (w, b) in enumerate(layers):
            w = np.asarray(w, dtype=np.float32)
            b = np.asarray(b, dtype=np.float32).reshape(-1)
            if w.ndim != 2 or w.shape[1] != sizes[-1] or b.shape != (w.shape[0],):
                raise ValueError(f"layer {i}: W {w.shape} and b {b.shape} do not chain "
                                 f"from {sizes[-1]} inputs")
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                # the kernel adds 0 * w for a zero input: exact only for a finite w
                raise ValueError(f"layer {i}: weights must be finite (inf or nan found)")
            mats.append((w, b))
            sizes.append(w.shape[0])
        if sizes[-1] != 1 or len(sizes) < 3:
            raise ValueError(f"need hidden layers and one output, got sizes {sizes}")
        self.layers = mats
        self.sizes = np.asarray(sizes, dtype=np.int64)
        p = max(sizes)
        self.net = np.zeros((len(mats), p, p), dtype=np.float32)
        self.bias = np.zeros((len(mats), p), dtype=np.float32)
        for i, (w, b) in enumerate(mats):
            self.net[i, : w.shape[1], : w.shape[0]] = w.T
            self.bias[i, : w.shape[0]] = b

    @property
    def n_inputs(self) -> int:
        """Features per candidate plus globals."""
        return int(self.sizes[0])

    def choose(self, obs: np.ndarray, n_candidates: int, n_features: int) -> np.ndarray:
        """The best candidate (the first among equal scores) of each observation row:
        ``n_candidates`` blocks of ``n_features``, then the globals, as the cache env's."""
        rows = np.ascontiguousarray(obs, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != n_candidates * n_features + self.n_inputs \
                - n_features or n_features > self.n_inputs:
            raise ValueError(f"observations of shape {np.shape(obs)} are not rows of "
                             f"{n_candidates} x {n_features} features + globals for a scorer "
                             f"of {self.n_inputs} inputs")
        out = np.empty(len(rows), dtype=np.int64)
        choose_rows(rows, n_candidates, n_features, self.net, self.bias, self.sizes, out)
        return out


_NO_SCORER = (np.zeros((1, 1, 1), dtype=np.float32), np.zeros((1, 1), dtype=np.float32),
              np.zeros(1, dtype=np.int64))


_ENTRIES: dict[tuple, Callable[..., int]] = {}


def _packed_entry(req: np.ndarray, bufs: tuple) -> Callable[..., int]:
    """``serve_packed``'s compiled entry for these argument types, else ``serve_packed``:
    numba's dispatcher types every argument on each call, the entry does not."""
    full = (req, 0, 0, *bufs)
    sig = tuple(numba.typeof(a) for a in full)
    call = _ENTRIES.get(sig)
    if call is None:
        if sig not in serve_packed.overloads:
            serve_packed(*full)  # lo == hi: compiles (or loads) it, serves nothing
        cres = serve_packed.overloads.get(sig)
        call = _ENTRIES[sig] = serve_packed if cres is None else cres.entry_point
    return call


class Engine:
    """A cache of ``capacity`` objects (dense ints >= 0) whose victims a policy chooses."""

    def __init__(self, capacity: int, sources: Sequence[str], scorer: Scorer | None = None,
                 *, features: str = "extended", seed: int = 0, ghost_size: int | None = None,
                 half_life: float | None = None, decay: float = 0.99, n_objects: int = 0,
                 horizon: int = 1) -> None:
        cap = check_capacity(capacity)
        names = [str(s).lower() for s in sources]
        bad = [s for s in names if s not in SOURCES]
        if not names or bad:
            raise ValueError(f"sources: expected a non-empty list of {SOURCES}, got {bad or names}")
        if features not in FEATURE_SETS:
            raise ValueError(f"features: expected one of {FEATURE_SETS}, got {features!r}")
        nf = K.N_CAND_EXT if features == "extended" else K.N_CAND_BASIC
        if scorer is not None and scorer.n_inputs != nf + K.N_GLOB:
            raise ValueError(f"the scorer takes {scorer.n_inputs} inputs; {features} features "
                             f"give {nf} per candidate + {K.N_GLOB} globals")
        self.capacity, self.sources, self.features = cap, tuple(names), features
        self.scorer = scorer
        self.obs_dim = len(names) * nf + K.N_GLOB
        gs = cap if ghost_size is None else int(ghost_size)
        hl = HALF_LIFE_CAPACITIES * cap if half_life is None else float(half_life)
        if not hl > 0 or gs < 0:
            raise ValueError(f"need half_life > 0 and ghost_size >= 0, got {hl}, {gs}")
        self._net, self._bias, self._sizes = (_NO_SCORER if scorer is None else
                                              (scorer.net, scorer.bias, scorer.sizes))
        self._src = np.asarray([SOURCES.index(s) for s in names], dtype=np.int64)
        self._own_kernel = type(self)._run is Engine._run  # serve_some packs for this one
        self._init_state(cap, gs, hl, float(decay), int(seed), features, int(horizon))
        self._grow(max(int(n_objects), 1))

    def _init_state(self, cap: int, gs: int, hl: float, decay: float, seed: int,
                    features: str, horizon: int) -> None:
        period = max(1, int(_EPOCH * hl))
        S = np.zeros(K.N_S, dtype=np.int64)
        S[K.CAP], S[K.GSIZE], S[K.PERIOD], S[K.EPOCH_END] = cap, gs, period, period
        S[K.PREV] = S[K.LAST_VICTIM] = -1
        S[K.CHOICE] = S[K.LRU_CAND] = S[K.FORCE] = -1
        S[K.FEATSET] = 1 if features == "extended" else 0
        S[K.HORIZON] = max(1, horizon)
        used = set(self.sources)
        S[K.USE_LRU], S[K.USE_FIFO] = "lru" in used, "fifo" in used
        S[K.USE_LFU], S[K.USE_LRFU] = "lfu" in used, "lrfu" in used
        F = np.zeros(K.N_F, dtype=np.float64)
        F[K.HALF_LIFE], F[K.SCALE], F[K.DECAY] = hl, float(cap), decay
        F[K.REBASE] = 2.0 ** (-period / hl)
        state = random.Random(seed).getstate()[1]
        self._mt = np.asarray(state[:624], dtype=np.int64)
        S[K.MTI] = state[624]
        self._S, self._F = S, F
        ring = 2 * max(cap, gs) + 16
        self._rings = np.zeros((3, ring, 2), dtype=np.int64)
        self._lfuh = np.zeros((2 * cap + 16, 3), dtype=np.int64)
        self._rfk = np.zeros(2 * cap + 16, dtype=np.float64)
        self._rfo = np.zeros(2 * cap + 16, dtype=np.int64)
        self._slots = np.zeros(cap, dtype=np.int64)
        self._sqt = np.zeros(min(32 * cap + 4096, 1 << 22), dtype=np.float64)
        self._iobj = np.zeros((0, K.N_I), dtype=np.int64)
        self._fobj = np.zeros((0, 2), dtype=np.float64)
        self._w = np.zeros(0, dtype=np.float64)
        self._one = np.zeros(1, dtype=np.int64)
        self._no_rec = np.zeros(0, dtype=np.int64)
        self._no_obs = np.zeros((0, self.obs_dim), dtype=np.float32)

    # ---- growth and refills (Python side, between kernel calls) --------------------------
    def _grow(self, rows: int) -> None:
        old = self._iobj.shape[0]
        if rows <= old:
            return
        rows = max(rows, 2 * old)
        iobj = np.empty((rows, K.N_I), dtype=np.int64)
        iobj[:old] = self._iobj
        iobj[old:] = K.INIT_ROW
        fobj = np.zeros((rows, 2), dtype=np.float64)
        fobj[:old] = self._fobj
        fobj[old:, K.LRFU_KEY] = -1.0
        self._iobj, self._fobj = iobj, fobj
        self._packed = False

    def _refill(self) -> None:
        """Weights ``2 ** ((k mod period) / half_life)`` for the next chunk of times."""
        t = int(self._S[K.T])
        ks = np.arange(t, t + _W_CHUNK, dtype=np.float64)
        w = np.exp2((ks % self._S[K.PERIOD]) / self._F[K.HALF_LIFE])
        self._S[K.WBASE] = t
        if w.shape == self._w.shape:  # in place: the packed buffers keep their layout
            self._w[:] = w
        else:
            self._w = w
            self._packed = False

    def _bind(self) -> None:
        """Pack the arrays for :meth:`serve_some` (again after ``_grow`` or ``_refill``
        replaced one): done on the first online call, so that engines that only replay
        or step never pay for it."""
        nf = K.N_CAND_EXT if self.features == "extended" else K.N_CAND_BASIC
        self._bufs = pack(self, self.obs_dim, len(self._src), self._net.shape[2], nf)
        self.state = memoryview(self._S)  # ``S`` read as Python ints (``state[K.HITS]``)
        self._call = _packed_entry(self._one, self._bufs)
        self._packed = True

    def _run(self, req: np.ndarray, rec: np.ndarray, obs_rec: np.ndarray) -> None:
        i, n = 0, len(req)
        while i < n:
            if self._S[K.T] >= self._S[K.WBASE] + len(self._w):
                self._refill()
            i = serve(req, i, n, self._S, self._F, self._iobj, self._fobj, self._slots,
                      self._rings, self._lfuh, self._rfk, self._rfo, self._mt, self._w,
                      self._src, self._net, self._bias, self._sizes, self._sqt, rec, obs_rec)
            if i < n:
                if self._S[K.CHOICE] >= 0:  # a decision waits for the caller (DECIDE)
                    return
                x = int(req[i])
                if x < 0:
                    raise ValueError(f"object ids must be >= 0, got {x}")
                self._grow(x + 1)

    # ---- public API ------------------------------------------------------------------
    def access(self, obj: int) -> bool:
        """Serve one request; True on a hit. A miss with a full cache evicts first."""
        if obj < 0:
            raise ValueError(f"object ids must be >= 0, got {obj}")
        self._one[0] = obj
        h = self._S[K.HITS]
        self.serve_some(self._one, 1)
        return bool(self._S[K.HITS] != h)

    def replay(self, objs: np.ndarray | Sequence[int], record: bool = False,
               record_obs: int = 0) -> int:
        """Serve every request of ``objs`` in one call; returns the hits among them.

        ``record``: keep per request ``REC_HIT`` (-1), ``REC_INSERT`` (-2) or the victim
        in ``self.record``; ``record_obs``: keep up to that many decision observations
        in ``self.observations`` (for tests against the reference features).
        """
        req = np.ascontiguousarray(objs, dtype=np.int64)
        if len(req):
            if int(req.min()) < 0:
                raise ValueError(f"object ids must be >= 0, got {int(req.min())}")
            self._grow(int(req.max()) + 1)
        rec = np.zeros(len(req), dtype=np.int64) if record else self._no_rec
        obs = (np.zeros((record_obs, self.obs_dim), dtype=np.float32) if record_obs
               else self._no_obs)
        self._S[K.NREC] = 0
        h = int(self._S[K.HITS])
        self._run(req, rec, obs)
        if record:
            self.record = rec
        if record_obs:
            self.observations = obs[: int(self._S[K.NREC])]
        return int(self._S[K.HITS]) - h

    def serve_some(self, req: np.ndarray, n: int) -> None:
        """Serve ``req[:n]`` (a C-contiguous int64 buffer the caller reuses): the online
        path, with no copy and no checks beyond the kernel's own. An entry ``-1 - y``
        is no request: it makes non-resident ``y`` a never-seen object, so that its id can
        name another (``rlcache.serve`` bounds its memory so)."""
        if not self._own_kernel:  # a subclass's kernel (HistoryEngine) takes its own path
            self._run(req[:n], self._no_rec, self._no_obs)
            return
        S, i = self._S, 0
        while True:
            if not self._packed:
                self._bind()
                S = self._S
            i = self._call(req, i, n, *self._bufs)
            if i >= n or S[K.CHOICE] >= 0:  # done, or a decision waits (DECIDE)
                return
            x = int(req[i])
            if x < 0:  # the kernel stops at a forget code only for a row it lacks
                raise ValueError(f"object ids must be >= 0, got {x}")
            if x >= self._iobj.shape[0]:
                self._grow(x + 1)
            else:
                self._refill()

    @property
    def hits(self) -> int:
        """Hits so far."""
        return int(self._S[K.HITS])

    @property
    def requests(self) -> int:
        """Requests served so far."""
        return int(self._S[K.T])

    @property
    def evictions(self) -> int:
        """Evictions so far."""
        return int(self._S[K.EVICTIONS])

    @property
    def last_victim(self) -> int:
        """The object the last request evicted, -1 if it evicted none."""
        return int(self._S[K.LAST_VICTIM])

    @property
    def victim(self) -> int:
        """Alias of :attr:`last_victim` (the name ``serve.PolicyEngine`` uses)."""
        return self.last_victim

    def remove(self, obj: int) -> bool:
        """Drop resident ``obj`` outside an eviction (a user's delete: no ghost entry)."""
        if obj not in self:
            return False
        iobj, slots = self._iobj, self._slots
        iobj[obj, K.FREQ] = 0
        iobj[obj, K.LFU_F] = -1
        self._fobj[obj, K.LRFU_KEY] = -1.0
        n = int(self._S[K.NSLOTS]) - 1
        last, pos = int(slots[n]), int(iobj[obj, K.POS])
        slots[pos] = last
        iobj[last, K.POS] = pos
        self._S[K.NSLOTS] = n
        return True

    def __len__(self) -> int:
        return int(self._S[K.NSLOTS])

    def __contains__(self, obj: object) -> bool:
        return isinstance(obj, int) and 0 <= obj < len(self._iobj) and \
            bool(self._iobj[obj, K.FREQ] > 0)

    def residents(self) -> np.ndarray:
        """The resident objects, in slot order (a copy)."""
        return self._slots[: len(self)].copy()
