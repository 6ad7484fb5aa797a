"""Dependency resolution shared by the apt and yum models: what an install request would change.

Errors are structured (`Problem`) so each front end words them like its real tool.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from . import catalog, pkgdb, vercmp

Avail = dict[str, dict[str, str]]  # name -> {version: origin}


@dataclass
class Problem(Exception):
    kind: str  # unknown | version | held | downgrade | dep
    name: str
    detail: str = ""


@dataclass
class Plan:
    install: list[tuple[str, str, str, bool]] = field(default_factory=list)  # name, version, origin, auto
    remove: list[str] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # name, installed version

    @property
    def extra(self) -> bool:
        """Anything beyond the named packages (apt and yum ask before doing that)."""
        return any(auto for *_, auto in self.install) or bool(self.remove)


def pick(name: str, pattern: str | None, avail: Avail, match: str = "apt") -> tuple[str, str]:
    """(version, origin) of the newest available version matching `pattern` (a glob; None = any)."""
    if name not in avail:
        raise Problem("unknown", name)
    versions = list(avail[name])
    if pattern:
        if match == "yum":
            versions = [
                v
                for v in versions
                if fnmatch.fnmatchcase(v.split(":")[-1], pattern)
                or fnmatch.fnmatchcase(vercmp.upstream(v), pattern)
            ]
        else:
            versions = [v for v in versions if fnmatch.fnmatchcase(v, pattern)]
    if not versions:
        raise Problem("version", name, pattern or "")
    best = vercmp.newest(versions)
    return best, avail[name][best]


def plan(
    requests: list[tuple[str, str | None]],
    avail: Avail,
    family: str,
    *,
    allow_held: bool = False,
    allow_downgrade: bool = False,
    match: str = "apt",
) -> Plan:
    db = pkgdb.installed()
    result = Plan()
    chosen: dict[str, str] = {}
    for name, pattern in requests:
        version, origin = pick(name, pattern, avail, match)
        _choose(
            result, chosen, db, name, version, origin, False, pattern is not None, allow_held, allow_downgrade
        )
    queue = [(n, o) for n, _, o, _ in result.install]
    while queue:
        name, origin = queue.pop()
        for dep in pkgdb.deps(name, origin, family):
            if dep in db or dep in chosen:
                continue
            try:
                version, dep_origin = pick(dep, None, avail, match)
            except Problem:
                raise Problem("dep", name, dep) from None
            _choose(result, chosen, db, dep, version, dep_origin, True, False, allow_held, allow_downgrade)
            queue.append((dep, dep_origin))
    _conflicts(result, db)
    return result


def _choose(
    result: Plan,
    chosen: dict[str, str],
    db: dict,
    name: str,
    version: str,
    origin: str,
    auto: bool,
    pinned: bool,
    allow_held: bool,
    allow_downgrade: bool,
) -> None:
    have = db.get(name)
    if have and (
        have["version"] == version or (not pinned and vercmp.compare(have["version"], version) >= 0)
    ):
        result.unchanged.append((name, have["version"]))
        chosen[name] = have["version"]
        return
    if have and have.get("held") and not allow_held:
        raise Problem("held", name, version)
    if have and vercmp.compare(version, have["version"]) < 0 and not allow_downgrade:
        raise Problem("downgrade", name, version)
    chosen[name] = version
    result.install.append((name, version, origin, auto and not have))


def _conflicts(result: Plan, db: dict) -> None:
    for name, *_ in result.install:
        for other in catalog.PACKAGES[name].conflicts:
            if other in db and other not in result.remove:
                result.remove.append(other)


def execute(result: Plan, family: str, echo: bool = True) -> None:
    for name in result.remove:
        if echo:
            print(f"Removing {name} ({pkgdb.installed()[name]['version']}) ...")
        pkgdb.drop(name, family)
    for name, version, origin, auto in result.install:
        if echo:
            print(f"Setting up {name} ({version}) ...")
        pkgdb.add(name, version, origin, auto, family)
