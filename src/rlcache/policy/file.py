"""The policy file: a trained agent's network and everything its decisions depend on.

One ``.npz`` archive, written with numpy and read with ``allow_pickle=False``: the layers
as float32 arrays (``layer0.weight``, ``layer0.bias``, ...) and ``meta.json``, a uint8
array holding UTF-8 JSON (format, format version, rlcache version, the network's shape,
the candidate sources and feature set with their parameters, the training env and run
config, the checkpoint it came from, and a SHA-256). The hash covers every array (name,
dtype, shape, bytes) and the metadata without its ``sha256`` field, so an edit anywhere
is caught. Nothing in the file is unpickled or imported; loading needs numpy only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import rlcache
from rlcache.errors import UserError
from rlcache.policy.network import CandidateNetwork, MLPNetwork, NetworkShapeError

FORMAT = "rlcache-policy"
FORMAT_VERSION = 1
META_KEY = "meta.json"
#: Features per candidate and global features of each feature set (envs/features.py).
FEATURE_DIMS: dict[str, tuple[int, int]] = {
    "basic": (8, 4), "extended": (13, 4),
    "sourced": (22, 4),  # extended + 9 flags
    "history": (24, 4),  # extended + 6 older gaps + 5 decayed counts (envs/history.py)
}
#: What a cache decision depends on besides the network (``CacheEnvConfig`` fields).
DECISION_KEYS = ("candidates", "features", "decay", "ghost_size", "ghost_factor",
                 "dfreq_half_life", "seed")


class PolicyFileError(UserError, ValueError):
    """A policy file that cannot be used: one line naming the file and what was expected."""


@dataclass
class Policy:
    """A loaded policy: its metadata and a numpy Q-network."""

    path: str
    meta: dict[str, Any]
    network: CandidateNetwork | MLPNetwork

    @property
    def decisions(self) -> dict[str, Any]:
        """Candidate sources, feature set and parameters (``DECISION_KEYS``)."""
        return self.meta["decisions"]

    @property
    def candidates(self) -> list[str]:
        """The K candidate sources, in action order."""
        return list(self.decisions["candidates"])

    @property
    def env(self) -> dict[str, Any]:
        """The training run's ``env:`` section (what ``evaluate --policy`` replays)."""
        return dict(self.meta["env"])

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of one observation (float32, the env's layout)."""
        return self.network.q_values(np.asarray(obs, dtype=np.float32))

    def select(self, obs: np.ndarray) -> int:
        """The greedy action: the first candidate of highest Q-value."""
        return int(np.argmax(self.network.q_values(obs)))


def content_hash(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> str:
    """SHA-256 over the arrays (sorted by name) and the metadata without ``sha256``."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        digest.update(a.tobytes())
    body = {k: v for k, v in meta.items() if k != "sha256"}
    digest.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


def save_policy(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray],
                meta: Mapping[str, Any]) -> dict[str, Any]:
    """Write a policy file atomically (temp file, fsync, rename); return its metadata.

    ``meta`` needs ``network``, ``decisions`` and ``env``; format, versions and the hash
    are filled in here. The result is loaded back before the rename, so a file that
    would not load is never put in place.
    """
    arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}
    full = {**meta, "format": FORMAT, "format_version": FORMAT_VERSION,
            "rlcache_version": rlcache.__version__}
    full.pop("sha256", None)
    full["sha256"] = content_hash(arrays, full)
    buf = io.BytesIO()
    text = json.dumps(full, sort_keys=True, indent=1).encode("utf-8")
    np.savez(buf, **arrays, **{META_KEY: np.frombuffer(text, dtype=np.uint8)})
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                               dir=target.parent if str(target.parent) else ".")
    try:
        umask = os.umask(0)
        os.umask(umask)
        # mkstemp makes it private (0600); a policy file is meant to be shared.
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        load_policy(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return full


def _read_archive(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the parsed metadata; PolicyFileError for anything unreadable."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise PolicyFileError(f"{path}: policy file not found") from None
    except IsADirectoryError:
        raise PolicyFileError(f"{path}: is a folder; expected a policy file (.npz)") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        # np.load itself names no file; a truncated or foreign file lands here.
        raise PolicyFileError(f"{path}: not a readable policy file (expected an .npz "
                              f"written by rlcache export; {type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:120]})") from None
    raw = arrays.pop(META_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise PolicyFileError(f"{path}: no {META_KEY} in the archive; expected a policy "
                              "file written by rlcache export")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PolicyFileError(f"{path}: its {META_KEY} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise PolicyFileError(f"{path}: not an rlcache policy (expected format {FORMAT!r})")
    return arrays, meta


def _check_meta(path: Path, arrays: Mapping[str, np.ndarray], meta: dict[str, Any]) -> None:
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise PolicyFileError(f"{path}: bad format_version {version!r}; expected an integer "
                              f"from 1 to {FORMAT_VERSION}")
    if version > FORMAT_VERSION:
        raise PolicyFileError(f"{path}: policy format version {version} is newer than this "
                              f"rlcache {rlcache.__version__} reads (up to {FORMAT_VERSION}); "
                              "upgrade rlcache")
    bad = sorted(n for n, a in arrays.items() if a.dtype != np.float32)
    if bad:
        raise PolicyFileError(f"{path}: array {bad[0]} is {arrays[bad[0]].dtype}; "
                              "expected float32")
    actual = content_hash(arrays, meta)
    if actual != meta.get("sha256"):
        raise PolicyFileError(f"{path}: content SHA-256 {actual[:12]}... does not match "
                              f"{str(meta.get('sha256'))[:12]}... in its metadata; the file "
                              "was edited or damaged")
    for key in ("network", "decisions", "env"):
        if not isinstance(meta.get(key), dict):
            raise PolicyFileError(f"{path}: metadata lacks the {key!r} section")
    missing = [k for k in DECISION_KEYS if k not in meta["decisions"]]
    if missing:
        raise PolicyFileError(f"{path}: metadata decisions lack {', '.join(missing)}")


def _build_network(path: Path, arrays: Mapping[str, np.ndarray],
                   meta: dict[str, Any]) -> CandidateNetwork | MLPNetwork:
    net, dec = meta["network"], meta["decisions"]
    k = len(dec["candidates"])
    dims = FEATURE_DIMS.get(dec["features"])
    if dims is None:
        raise PolicyFileError(f"{path}: unknown feature set {dec['features']!r}; expected "
                              f"one of {', '.join(FEATURE_DIMS)}")
    try:
        if net.get("type") == "candidate":
            if (net.get("candidate_features"), net.get("global_features")) != dims:
                raise NetworkShapeError(f"the scorer reads {net.get('candidate_features')} + "
                                        f"{net.get('global_features')} features; the "
                                        f"{dec['features']} set has {dims[0]} + {dims[1]}")
            return CandidateNetwork(arrays, k, *dims)
        if net.get("type") == "mlp":
            if net.get("action_dim") != k:
                raise NetworkShapeError(f"{net.get('action_dim')} actions for {k} candidates")
            return MLPNetwork(arrays, k * dims[0] + dims[1], k, bool(net.get("dueling")))
    except NetworkShapeError as exc:
        raise PolicyFileError(f"{path}: {exc}") from None
    raise PolicyFileError(f"{path}: unknown network type {net.get('type')!r}; expected "
                          "candidate or mlp")


def load_policy(path: str | os.PathLike[str], n_candidates: int | None = None) -> Policy:
    """Load and verify a policy file; ``n_candidates``: the K the caller needs.

    Raises :class:`PolicyFileError` (a ``ValueError`` and a ``UserError``) with one line
    naming the file for a missing, truncated, foreign, edited, newer or mismatched file.
    """
    p = Path(path)
    arrays, meta = _read_archive(p)
    _check_meta(p, arrays, meta)
    k = len(meta["decisions"]["candidates"])
    if n_candidates is not None and k != n_candidates:
        raise PolicyFileError(f"{p}: the policy was made for {k} candidates "
                              f"({', '.join(meta['decisions']['candidates'])}); expected "
                              f"{n_candidates}")
    return Policy(str(p), meta, _build_network(p, arrays, meta))


def pretrained_path() -> Path:
    """The policy file shipped inside the package (``rlcache.policy/pretrained.npz``)."""
    return Path(__file__).with_name("pretrained.npz")


def resolve_policy(name: str | os.PathLike[str]) -> Path:
    """``pretrained`` -> the shipped file; anything else is a path."""
    return pretrained_path() if str(name) == "pretrained" else Path(name)
