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
    t1_pop, t2_pop, b1_pop, b2_pop = t1.popitem, t2.popitem, b1.popitem, b2.popitem
    t2_touch = t2.move_to_end
    # Sizes of T1, T2, B1, B2 kept as ints (cheaper than len() in the hot loop).
    n1 = n2 = g1 = g2 = 0
    two_cap = 2 * cap
    p = 0
    hits = 0
    for x in req:
        w = where[x]
        if w == _T2:
            t2_touch(x)
            hits += 1
            continue
        if w == _T1:
            del t1[x]
            t2[x] = None
            where[x] = _T2
            n1 -= 1
            n2 += 1
            hits += 1
            continue
        # A miss. REPLACE (T1's or T2's oldest becomes a ghost) comes first, unless the
        # cache has room or a full T1 + B1 drops T1's oldest outright.
        in_b2 = w == _B2
        replace = True
        if w >= _B1:
            p = max(p - max(g1 // g2, 1), 0) if in_b2 else min(p + max(g2 // g1, 1), cap)
            from_t1 = n1 and (n1 > p or (n1 == p and in_b2))
        else:
            from_t1 = n1 and n1 > p
            if n1 + n2 < cap:
                replace = False
            elif n1 + g1 >= cap:
                if n1 < cap:
                    where[b1_pop(False)[0]] = _NONE
                    g1 -= 1
                else:
                    where[t1_pop(False)[0]] = _NONE
                    n1 -= 1
                    replace = False
            elif n1 + g1 + n2 + g2 >= two_cap:
                where[b2_pop(False)[0]] = _NONE
                g2 -= 1
        if replace:
            if from_t1:
                y = t1_pop(False)[0]
                b1[y] = None
                where[y] = _B1
                n1 -= 1
                g1 += 1
            else:
                y = t2_pop(False)[0]
                b2[y] = None
                where[y] = _B2
                n2 -= 1
                g2 += 1
        if w >= _B1:
            if in_b2:
                del b2[x]
                g2 -= 1
            else:
                del b1[x]
                g1 -= 1
            t2[x] = None
            where[x] = _T2
            n2 += 1
        else:
            t1[x] = None
            where[x] = _T1
            n1 += 1
    return hits
