"""Capture and restore every RNG a training run draws from, as weights-only-safe values.

Python's ``random`` state becomes lists, NumPy's global MT19937 state a dict holding an
int64 tensor, torch's CPU state a uint8 tensor, and the env's ``np_random`` bit-generator
state a dict of ints (gymnasium envs keep it on ``env.unwrapped``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from rlcache.errors import UserError


def seed_everything(seed: int) -> None:
    """Seed Python ``random``, NumPy's global RNG and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_global() -> dict[str, Any]:
    """The states of Python ``random``, NumPy's global RNG and torch."""
    version, internal, gauss_next = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": {"version": int(version), "state": list(internal), "gauss_next": gauss_next},
        "numpy": {"kind": str(kind), "keys": torch.from_numpy(keys.astype(np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["torch_cuda"] = torch.cuda.get_rng_state_all()
    return state


BIT_GENERATORS = ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")
"""NumPy bit generators an env state may name (a name read from a checkpoint is looked up
here, never as an arbitrary attribute of ``np.random``)."""
_MALFORMED = (KeyError, IndexError, TypeError, ValueError, RuntimeError, AttributeError,
              OverflowError)


def _malformed(what: str, exc: BaseException) -> UserError:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return UserError(f"checkpoint: malformed {what} RNG state ({first})")


def restore_global(state: dict[str, Any]) -> None:
    """Undo :func:`capture_global`; UserError for a malformed state (from a checkpoint)."""
    try:
        _restore_global(state)
    except _MALFORMED as exc:
        raise _malformed("global", exc) from None


def _restore_global(state: dict[str, Any]) -> None:
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss_next"]))
    npy = state["numpy"]
    keys = np.asarray(npy["keys"].numpy() if torch.is_tensor(npy["keys"]) else npy["keys"])
    np.random.set_state((npy["kind"], keys.astype(np.uint32), npy["pos"], npy["has_gauss"],
                         npy["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["torch_cuda"])


def capture_env(env: Any) -> dict[str, Any] | None:
    """The env's ``np_random`` bit-generator state, or None if it has none yet.

    Reads the private ``_np_random`` so that an env not yet seeded is not seeded here.
    """
    unwrapped = getattr(env, "unwrapped", env)
    gen = getattr(unwrapped, "_np_random", None)
    if gen is None:
        gen = unwrapped.__dict__.get("np_random") if hasattr(unwrapped, "__dict__") else None
    if not isinstance(gen, np.random.Generator):
        return None
    return _plain(gen.bit_generator.state)


def capture_spaces(env: Any) -> dict[str, Any]:
    """Bit-generator states of the env's action and observation spaces that have one."""
    states = {}
    for name in ("action_space", "observation_space"):
        gen = getattr(getattr(env, name, None), "_np_random", None)
        if isinstance(gen, np.random.Generator):
            states[name] = _plain(gen.bit_generator.state)
    return states


def restore_spaces(env: Any, states: dict[str, Any] | None) -> None:
    """Undo :func:`capture_spaces`."""
    for name, state in (states or {}).items():
        space = getattr(env, name, None)
        if space is not None:
            space._np_random = _generator(state)


def _generator(state: dict[str, Any]) -> np.random.Generator:
    try:
        name = state["bit_generator"]
        if name not in BIT_GENERATORS:
            raise ValueError(f"unknown bit generator {name!r}")
        bit_gen = getattr(np.random, name)()
        bit_gen.state = state
        return np.random.Generator(bit_gen)
    except _MALFORMED as exc:
        raise _malformed("env", exc) from None


def restore_env(env: Any, state: dict[str, Any] | None) -> None:
    """Give the env a generator in exactly the captured state (no-op for None)."""
    if state is None:
        return
    unwrapped = getattr(env, "unwrapped", env)
    unwrapped.np_random = _generator(state)


@contextmanager
def preserved_global_rng() -> Iterator[None]:
    """Run a block (evaluation, plotting, tracking) without moving the global RNGs."""
    saved = capture_global()
    try:
        yield
    finally:
        restore_global(saved)


def _plain(value: Any) -> Any:
    """Turn a bit-generator state into plain ints, strings, lists and dicts."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    return value
