"""Policy files: numpy forward equals torch's, and every kind of bad file is one clear error."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from rlcache.envs.features import (
    EXT_CANDIDATE_FEATURES,
    N_CANDIDATE,
    N_GLOBAL,
    SOURCED_CANDIDATE_FEATURES,
)
from rlcache.envs.history import HISTORY_CANDIDATE_FEATURES
from rlcache.errors import UserError
from rlcache.policy import FORMAT_VERSION, PolicyFileError, load_policy, pretrained_path
from rlcache.policy.file import FEATURE_DIMS, META_KEY, content_hash
from tests.policy.helpers import CANDIDATES, make_policy


def _rewrite(path: Path, arrays: dict[str, np.ndarray], meta: dict, rehash: bool) -> None:
    """Save arrays + meta as a policy archive, with the hash recomputed or left stale."""
    if rehash:
        meta = {**meta, "sha256": content_hash(arrays, meta)}
    text = json.dumps(meta).encode()
    np.savez(path, **arrays, **{META_KEY: np.frombuffer(text, dtype=np.uint8)})


def _parts(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop(META_KEY).tobytes())
    return arrays, meta


@pytest.mark.parametrize(("network", "features", "dueling"), [
    ("candidate", "extended", False), ("candidate", "basic", False),
    ("candidate", "history", False), ("mlp", "basic", False), ("mlp", "extended", True)])
def test_numpy_forward_matches_torch(tmp_path: Path, network: str, features: str,
                                     dueling: bool) -> None:
    path, net = make_policy(tmp_path / "p.npz", network=network, features=features,
                            dueling=dueling, seed=4)
    policy = load_policy(path)
    obs = np.random.default_rng(1).random((300, policy.network.state_dim), dtype=np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(obs)).numpy()
    got = np.stack([policy.q_values(o) for o in obs])
    assert np.abs(got - expected).max() < 1e-5
    assert [policy.select(o) for o in obs] == expected.argmax(axis=1).tolist()


def test_metadata_names_everything_a_decision_depends_on(tmp_path: Path) -> None:
    path, _ = make_policy(tmp_path / "p.npz")
    meta = load_policy(path).meta
    assert meta["format_version"] == FORMAT_VERSION and len(meta["sha256"]) == 64
    assert meta["decisions"]["candidates"] == CANDIDATES
    assert meta["decisions"]["features"] == "extended"
    assert meta["decisions"]["ghost_factor"] == 2.0
    assert meta["decisions"]["dfreq_half_life"] > 0 and meta["decisions"]["decay"] == 0.99
    assert meta["training"]["run_config"]["env"]["cache_size"] == 60
    assert meta["rlcache_version"] and meta["network"]["hidden_sizes"] == [32, 16]
    # the numbers the env's feature builders produce
    env_dims = {"basic": (N_CANDIDATE, N_GLOBAL),
                "extended": (len(EXT_CANDIDATE_FEATURES), N_GLOBAL),
                "sourced": (len(SOURCED_CANDIDATE_FEATURES), N_GLOBAL),
                "history": (len(HISTORY_CANDIDATE_FEATURES), N_GLOBAL)}
    assert env_dims == FEATURE_DIMS


def _check(exc: pytest.ExceptionInfo[PolicyFileError], path: Path, *needles: str) -> None:
    msg = str(exc.value)
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, UserError)
    assert "\n" not in msg and str(path) in msg, msg
    for needle in needles:
        assert needle in msg, (needle, msg)


def test_truncated_foreign_and_missing_files(tmp_path: Path) -> None:
    path, _ = make_policy(tmp_path / "p.npz")
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(PolicyFileError) as exc:
            load_policy(bad)
        _check(exc, bad, "not a readable policy file")
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(PolicyFileError) as exc:
        load_policy(text)
    _check(exc, text, "expected an .npz")
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.zeros(3, np.float32))
    with pytest.raises(PolicyFileError) as exc:
        load_policy(plain)
    _check(exc, plain, META_KEY)
    with pytest.raises(PolicyFileError) as exc:
        load_policy(tmp_path / "absent.npz")
    _check(exc, tmp_path / "absent.npz", "not found")


def test_edited_weights_or_metadata_fail_the_hash(tmp_path: Path) -> None:
    path, _ = make_policy(tmp_path / "p.npz")
    arrays, meta = _parts(path)
    arrays["layer0.weight"][0, 0] += 0.5
    edited = tmp_path / "weights.npz"
    _rewrite(edited, arrays, meta, rehash=False)
    with pytest.raises(PolicyFileError) as exc:
        load_policy(edited)
    _check(exc, edited, "SHA-256", "edited or damaged")
    arrays, meta = _parts(path)
    meta["decisions"]["candidates"][0] = "mru"
    edited = tmp_path / "meta.npz"
    _rewrite(edited, arrays, meta, rehash=False)
    with pytest.raises(PolicyFileError) as exc:
        load_policy(edited)
    _check(exc, edited, "SHA-256")


def test_newer_format_version_and_other_candidate_count(tmp_path: Path) -> None:
    path, _ = make_policy(tmp_path / "p.npz")
    arrays, meta = _parts(path)
    newer = tmp_path / "newer.npz"
    _rewrite(newer, arrays, {**meta, "format_version": FORMAT_VERSION + 1}, rehash=True)
    with pytest.raises(PolicyFileError) as exc:
        load_policy(newer)
    _check(exc, newer, f"version {FORMAT_VERSION + 1}", f"up to {FORMAT_VERSION}")
    with pytest.raises(PolicyFileError) as exc:
        load_policy(path, n_candidates=4)
    _check(exc, path, "made for 7 candidates", "expected 4")
    # a network that does not fit its own metadata (re-hashed, so only the shape is wrong)
    arrays, meta = _parts(path)
    arrays["layer0.weight"] = arrays["layer0.weight"][:, :5].copy()
    odd = tmp_path / "odd.npz"
    _rewrite(odd, arrays, meta, rehash=True)
    with pytest.raises(PolicyFileError) as exc:
        load_policy(odd)
    _check(exc, odd, "expected 17 to 1")


class _Trap:
    """Unpickling this writes a marker file: proof that something was unpickled."""

    marker = ""

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "unpickled"))


def test_nothing_is_unpickled(tmp_path: Path) -> None:
    path, _ = make_policy(tmp_path / "p.npz")
    marker = tmp_path / "marker"
    _Trap.marker = str(marker)
    trap = np.empty(1, dtype=object)
    trap[0] = _Trap()
    buf = io.BytesIO()
    np.save(buf, trap, allow_pickle=True)
    bad = tmp_path / "pickled.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("layer9.weight.npy", buf.getvalue())
    with pytest.raises(PolicyFileError) as exc:
        load_policy(bad)
    _check(exc, bad)
    assert not marker.exists()


def test_loading_needs_numpy_not_torch(tmp_path: Path) -> None:
    path, _ = make_policy(tmp_path / "p.npz")
    code = ("import sys, numpy as np; from rlcache.policy import load_policy; "
            f"p = load_policy({str(path)!r}); p.select(np.zeros(p.network.state_dim, "
            "np.float32)); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_shipped_pretrained_policy_loads() -> None:
    policy = load_policy(pretrained_path())
    assert policy.decisions["features"] in FEATURE_DIMS
    assert policy.meta["training"]["episode"] > 0
