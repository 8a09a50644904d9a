"""Trained policies as self-contained files, run with numpy (no torch).

``rlcache export RUN -o policy.npz`` writes one; :func:`load_policy` reads it back
verified; ``load_policy(resolve_policy("pretrained"))`` is the one shipped with rlcache.
"""

from rlcache.policy.file import (
    FORMAT_VERSION,
    Policy,
    PolicyFileError,
    load_policy,
    pretrained_path,
    resolve_policy,
    save_policy,
)

__all__ = ["FORMAT_VERSION", "Policy", "PolicyFileError", "load_policy", "pretrained_path",
           "resolve_policy", "save_policy"]
