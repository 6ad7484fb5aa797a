"""Debian-style version comparison (epoch:upstream-revision, `~` sorts first); good enough for rpm too."""

from __future__ import annotations

import re
from functools import cmp_to_key


def _order(ch: str) -> int:
    if ch == "~":
        return -1
    if ch.isdigit():
        return 0
    if ch.isalpha():
        return ord(ch)
    return ord(ch) + 256


def _cmp_part(a: str, b: str) -> int:
    while a or b:
        na, nb = re.match(r"^[^\d]*", a).group(), re.match(r"^[^\d]*", b).group()  # type: ignore[union-attr]
        width = max(len(na), len(nb))
        for x, y in zip(na.ljust(width, "\0"), nb.ljust(width, "\0"), strict=True):
            ox, oy = (0 if x == "\0" else _order(x)), (0 if y == "\0" else _order(y))
            if ox != oy:
                return -1 if ox < oy else 1
        a, b = a[len(na) :], b[len(nb) :]
        da, db = re.match(r"^\d*", a).group(), re.match(r"^\d*", b).group()  # type: ignore[union-attr]
        if int(da or 0) != int(db or 0):
            return -1 if int(da or 0) < int(db or 0) else 1
        a, b = a[len(da) :], b[len(db) :]
    return 0


def _split(v: str) -> tuple[int, str, str]:
    epoch, _, rest = v.rpartition(":") if ":" in v else ("0", "", v)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return int(epoch or 0), upstream, revision


def compare(a: str, b: str) -> int:
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _cmp_part(ua, ub) or _cmp_part(ra, rb)


def newest(versions: list[str]) -> str:
    return max(versions, key=cmp_to_key(compare))


def upstream(v: str) -> str:
    """`5:28.5.1-1~ubuntu` -> `28.5.1`; `1.34.6-150500.1.1` -> `1.34.6`."""
    return _split(v)[1]
