"""ARC (Megiddo & Modha, FAST'03), following libCacheSim's integer arithmetic."""

from __future__ import annotations

from collections import OrderedDict

# Where an object is: nowhere, T1 / T2 (resident), B1 / B2 (ghosts).
_NONE, _T1, _T2, _B1, _B2 = 0, 1, 2, 3, 4


def arc_hits(req: list[int], size: int, cap: int) -> int:
    """Hits of ARC over ``req`` (object indices below ``size``) with ``cap`` objects."""
    where = bytearray(size)
    # Each list is ordered least recent first; new entries go to the end.
    t1: OrderedDict[int, None] = OrderedDict()
    t2: OrderedDict[int, None] = OrderedDict()
    b1: OrderedDict[int, None] = OrderedDict()
    b2: OrderedDict[int, None] = OrderedDict()
    p = 0
    hits = 0
    two_cap = 2 * cap
    for x in req:
        w = where[x]
        if w == _T2:
            t2.move_to_end(x)
            hits += 1
            continue
        if w == _T1:
            del t1[x]
            t2[x] = None
            where[x] = _T2
            hits += 1
            continue
        if w in (_B1, _B2):
            in_b2 = w == _B2
            if in_b2:
                p = max(p - max(len(b1) // len(b2), 1), 0)
            else:
                p = min(p + max(len(b2) // len(b1), 1), cap)
            # REPLACE(x, p)
            n1 = len(t1)
            if n1 and (n1 > p or (n1 == p and in_b2)):
                y = t1.popitem(False)[0]
                b1[y] = None
                where[y] = _B1
            else:
                y = t2.popitem(False)[0]
                b2[y] = None
                where[y] = _B2
            if in_b2:
                del b2[x]
            else:
                del b1[x]
            t2[x] = None
            where[x] = _T2
            continue
        n1 = len(t1)
        if n1 + len(t2) >= cap:
            nb1 = len(b1)
            if n1 + nb1 >= cap:
                if n1 < cap:
                    where[b1.popitem(False)[0]] = _NONE
                    replace = True
                else:
                    where[t1.popitem(False)[0]] = _NONE
                    replace = False
            else:
                if n1 + nb1 + len(t2) + len(b2) >= two_cap:
                    where[b2.popitem(False)[0]] = _NONE
                replace = True
            if replace:
                n1 = len(t1)
                if n1 and n1 > p:
                    y = t1.popitem(False)[0]
                    b1[y] = None
                    where[y] = _B1
                else:
                    y = t2.popitem(False)[0]
                    b2[y] = None
                    where[y] = _B2
        t1[x] = None
        where[x] = _T1
    return hits
