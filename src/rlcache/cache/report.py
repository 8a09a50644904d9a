"""Baseline tables: hit and miss ratios per policy, and each one's share of LRU→Belady gap."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from rlcache.cache.policies import check_capacity
from rlcache.cache.registry import POLICIES, simulate_many
from rlcache.cache.trace import Trace
from rlcache.errors import UserError

#: libCacheSim policies without a native twin (S3FIFO and SIEVE are native, with equal hits).
LIBCACHESIM_POLICIES: tuple[str, ...] = ("Cacheus", "LeCaR", "LIRS", "TwoQ")


def parse_capacity(text: str | int | float, n_objects: int) -> int:
    """A cache size as a count of objects: a fraction in (0, 1) of ``n_objects`` or an int."""
    raw = str(text).strip()
    try:
        value = float(raw)
    except ValueError:
        raise UserError(
            f"cache size {raw!r} is not a number; expected a fraction in (0, 1) or an object count"
        ) from None
    if 0.0 < value < 1.0:
        cap = max(1, int(value * n_objects))
    elif value.is_integer() and value >= 1:
        cap = int(value)
    else:
        raise UserError(
            f"cache size {raw!r} must be a fraction in (0, 1) or a positive whole object count"
        )
    if cap >= n_objects:
        raise UserError(
            f"cache size {raw!r} ({cap} objects) must be smaller than the {n_objects} "
            "distinct objects of the trace"
        )
    return cap


def gap_share(hit_ratio: float, lru: float, belady: float) -> float | None:
    """(hit_ratio - LRU) / (Belady - LRU), or None when Belady does not beat LRU."""
    span = belady - lru
    return (hit_ratio - lru) / span if span > 1e-12 else None


def baseline_table(
    trace: Trace, capacity: int, policies: Iterable[str] = POLICIES, seed: int = 0
) -> dict[str, dict]:
    """``{POLICY: {hits, requests, hit_ratio, miss_ratio, gap_share}}`` for ``trace``."""
    check_capacity(capacity)
    wanted = list(policies)
    names = [p.strip().upper() for p in wanted]
    extra = [p for p in ("LRU", "BELADY") if p not in names]
    results = simulate_many(trace, wanted + extra, capacity, seed=seed)
    table = {name: results[name].as_dict() for name in results if name not in extra}
    add_gap_shares(table, results["LRU"].hit_ratio, results["BELADY"].hit_ratio)
    return table


def add_gap_shares(table: Mapping[str, dict], lru: float, belady: float) -> None:
    """Set each row's ``gap_share`` (its share of the LRU→Belady hit-ratio gap) in place."""
    for row in table.values():
        row["gap_share"] = gap_share(row["hit_ratio"], lru, belady)


def format_table(table: Mapping[str, Mapping], title: str | None = None) -> str:
    """A plain-text table of a ``baseline_table`` (or compatible) dict."""
    lines = [title] if title else []
    lines.append(
        f"{'policy':<12}{'hits':>12}{'requests':>12}{'hit ratio':>11}"
        f"{'miss ratio':>12}{'gap LRU→MIN':>13}"
    )
    for name, row in table.items():
        share = row.get("gap_share")
        share_text = "-" if share is None else f"{100 * share:.1f}%"
        lines.append(
            f"{name:<12}{row['hits']:>12}{row['requests']:>12}{row['hit_ratio']:>11.4f}"
            f"{row['miss_ratio']:>12.4f}{share_text:>13}"
        )
    return "\n".join(lines)


def libcachesim_available() -> bool:
    """Whether the optional ``libcachesim`` package can be imported."""
    try:
        import libcachesim  # noqa: F401
    except ImportError:
        return False
    return True


def libcachesim_table(
    trace: Trace, capacity: int, policies: Sequence[str] = LIBCACHESIM_POLICIES
) -> dict[str, dict]:
    """Run libCacheSim's policies (unit sizes) on ``trace``; same row shape as baselines."""
    try:
        import libcachesim as lcs
    except ImportError:
        raise UserError(
            "libCacheSim policies need the optional 'libcachesim' package "
            "(pip install 'rlcache[cachesim]')"
        ) from None
    from rlcache.cache.readers import write_oracle_general

    check_capacity(capacity)
    table: dict[str, dict] = {}
    n = len(trace)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace.oracleGeneral"
        write_oracle_general(trace, path, unit_size=True)
        for name in policies:
            cls = _lcs_class(lcs, name)
            reader = lcs.TraceReader(str(path), lcs.TraceType.ORACLE_GENERAL_TRACE)
            miss_ratio, _ = cls(capacity).process_trace(reader)
            hits = round((1.0 - miss_ratio) * n)
            table[name] = {
                "hits": hits,
                "requests": n,
                "hit_ratio": hits / n if n else 0.0,
                "miss_ratio": 1.0 - hits / n if n else 0.0,
            }
    return table


def _lcs_class(lcs: object, name: str) -> type:
    lookup = {k.lower(): k for k in dir(lcs) if not k.startswith("_")}
    key = lookup.get(name.lower())
    cls = getattr(lcs, key) if key else None
    if not isinstance(cls, type) or not hasattr(cls, "process_trace"):
        raise UserError(f"libCacheSim has no cache policy {name!r}")
    return cls
