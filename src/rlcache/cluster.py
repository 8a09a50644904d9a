"""Ray start-up shared by ``rlcache sweep`` and ``rlcache benchmark`` (imports no torch)."""

from __future__ import annotations

import logging
import os
from typing import Any

from rlcache.errors import UserError

FORWARDED_ENV_PREFIXES = ("RLCACHE_",)
"""Environment variables the driver passes on to every Ray worker (the test hooks too)."""
LOCAL_OBJECT_STORE_BYTES = 256 * 2**20


def init_ray(address: str | None, num_cpus: int | None, quiet: bool) -> bool:
    """Start local Ray in-process (loopback only) or join ``address``; True if started here."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        return False
    env_vars = {k: v for k, v in os.environ.items()
                if k.startswith(FORWARDED_ENV_PREFIXES)}
    env_vars["RAY_USAGE_STATS_ENABLED"] = "0"
    common: dict[str, Any] = {"runtime_env": {"env_vars": env_vars},
                              "log_to_driver": not quiet, "logging_level": logging.WARNING}
    if address:
        try:
            ray.init(address=address, **common)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise UserError(f"--address {address}: cannot join the Ray cluster ({first})") \
                from None
    else:
        ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1,
                 include_dashboard=False, _node_ip_address="127.0.0.1",
                 object_store_memory=LOCAL_OBJECT_STORE_BYTES, **common)
    return True
