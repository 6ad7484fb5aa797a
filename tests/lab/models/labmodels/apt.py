"""apt-get / apt / apt-cache / apt-mark / dpkg-query / dpkg, worded like the real tools (errors exit 100)."""

from __future__ import annotations

import glob
import os
import re
import sys

from . import aptsrc, pkgdb, repos, resolve, state, vercmp

_WITH_ARG = {"-o", "-c", "-t", "--target-release", "--option"}


def _split(args: list[str]) -> tuple[list[str], set[str]]:
    words, flags, skip = [], set(), False
    for arg in args:
        if skip:
            skip = False
        elif arg in _WITH_ARG:
            skip = True
        elif arg.startswith("-"):
            flags.add(arg)
            if re.fullmatch(r"-[a-z]+", arg):
                flags.update(f"-{c}" for c in arg[1:])
        else:
            words.append(arg)
    return words, flags


def _yes(flags: set[str]) -> bool:
    return bool(flags & {"-y", "--yes", "--assume-yes"})


def apt(args: list[str]) -> int:
    print(
        "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n", file=sys.stderr
    )
    return apt_get(args)


def apt_get(args: list[str]) -> int:
    words, flags = _split(args)
    if not words:
        state.fail("E: Invalid operation", 100)
    verb, names = words[0], words[1:]
    aptsrc.sources()  # a malformed sources.list fails every apt command
    with state.locked():
        if verb == "update":
            return aptsrc.update("-qq" in flags)
        if verb in ("install", "reinstall"):
            return _install(names, flags)
        if verb in ("remove", "purge"):
            return _remove(names, flags)
        if verb in ("upgrade", "dist-upgrade", "full-upgrade"):
            return _upgrade(flags)
        if verb in ("autoremove", "clean", "autoclean", "check"):
            return 0
    state.fail(f"E: Invalid operation {verb}", 100)


def _install(names: list[str], flags: set[str]) -> int:
    requests = [(n.split("=", 1)[0], n.split("=", 1)[1] if "=" in n else None) for n in names]
    print("Reading package lists...\nBuilding dependency tree...\nReading state information...")
    try:
        plan = resolve.plan(
            requests,
            aptsrc.available(),
            "debian",
            allow_held="--allow-change-held-packages" in flags,
            allow_downgrade="--allow-downgrades" in flags,
        )
    except resolve.Problem as p:
        _problem(p)
    for name, version in plan.unchanged:
        print(f"{name} is already the newest version ({version}).")
    return _go(plan, flags)


def _problem(p: resolve.Problem) -> None:
    if p.kind == "unknown":
        state.fail(f"E: Unable to locate package {p.name}", 100)
    if p.kind == "version":
        state.fail(f"E: Version '{p.detail}' for '{p.name}' was not found", 100)
    if p.kind == "held":
        state.fail("E: Held packages were changed and -y was used without --allow-change-held-packages.", 100)
    if p.kind == "downgrade":
        state.fail("E: Packages were downgraded and -y was used without --allow-downgrades.", 100)
    state.fail(
        f"Some packages could not be installed.\nThe following packages have unmet dependencies:\n"
        f" {p.name} : Depends: {p.detail} but it is not installable\n"
        "E: Unable to correct problems, you have held broken packages.",
        100,
    )


def _go(plan: resolve.Plan, flags: set[str]) -> int:
    if plan.remove:
        print("The following packages will be REMOVED:\n  " + " ".join(plan.remove))
    if plan.install:
        print("The following NEW packages will be installed:\n  " + " ".join(n for n, *_ in plan.install))
    print(
        f"0 upgraded, {len(plan.install)} newly installed, {len(plan.remove)} to remove and 0 not upgraded."
    )
    if plan.extra and not _yes(flags):
        print("Do you want to continue? [Y/n] Abort.")
        return 1
    resolve.execute(plan, "debian")
    return 0


def _remove(names: list[str], flags: set[str]) -> int:
    db = pkgdb.installed()
    avail = aptsrc.available()
    for name in names:
        if name not in db and name not in avail:
            state.fail(f"E: Unable to locate package {name}", 100)
        if db.get(name, {}).get("held") and "--allow-change-held-packages" not in flags:
            state.fail(
                "E: Held packages were changed and -y was used without --allow-change-held-packages.", 100
            )
    gone = [n for n in names if n in db]
    for name in names:
        if name not in db:
            print(f"Package '{name}' is not installed, so not removed")
    if gone and not _yes(flags):
        print(
            "The following packages will be REMOVED:\n  "
            + " ".join(gone)
            + "\nDo you want to continue? [Y/n] Abort."
        )
        return 1
    for name in gone:
        print(f"Removing {name} ({db[name]['version']}) ...")
        pkgdb.drop(name, "debian")
    return 0


def _upgrade(flags: set[str]) -> int:
    avail, db = aptsrc.available(), pkgdb.installed()
    kept = [
        n
        for n in db
        if db[n].get("held") and n in avail and vercmp.newest(list(avail[n])) != db[n]["version"]
    ]
    requests = [(n, None) for n in db if n in avail and n not in kept]
    plan = resolve.plan(requests, avail, "debian")
    if kept:
        print("The following packages have been kept back:\n  " + " ".join(sorted(kept)))
    if plan.install and not _yes(flags):
        print("Do you want to continue? [Y/n] Abort.")
        return 1
    resolve.execute(plan, "debian")
    return 0


# --- apt-mark ---------------------------------------------------------------------------


def apt_mark(args: list[str]) -> int:
    words, _ = _split(args)
    if not words:
        state.fail("E: No operation specified", 100)
    verb, names = words[0], words[1:]
    with state.locked():
        db = pkgdb.installed()
        if verb == "showhold":
            print("\n".join(sorted(n for n, v in db.items() if v.get("held"))) or "", end="\n" if db else "")
            return 0
        if verb not in ("hold", "unhold"):
            state.fail(f"E: Invalid operation {verb}", 100)
        for name in names:
            if name not in db:
                state.fail(
                    f"E: Unable to locate package {name}"
                    if name not in aptsrc.available()
                    else f"W: Package '{name}' is not installed, so not {verb}d",
                    100,
                )
            already = db[name].get("held") == (verb == "hold")
            db[name]["held"] = verb == "hold"
            print(
                {
                    (True, True): f"{name} was already set on hold.",
                    (True, False): f"{name} set on hold.",
                    (False, True): f"{name} was already not on hold.",
                    (False, False): f"Canceled hold on {name}.",
                }[(verb == "hold", already)]
            )
        pkgdb.save(db)
    return 0


# --- apt-key (deprecated, still in every distro the lab plays) -------------------------

def apt_key(args: list[str]) -> int:
    print("Warning: apt-key is deprecated. Manage keyring files in trusted.gpg.d instead (see apt-key(8)).",
          file=sys.stderr)
    words = [a for a in args if not a.startswith("-") or a == "-"]
    if words[:1] == ["add"] and len(words) == 2:
        if words[1] == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(words[1], "rb") as f:
                data = f.read()
        keys = repos.keys_in(data)
        if not keys:
            state.fail("gpg: no valid OpenPGP data found.", 2)
        with open(state.root("/etc/apt/trusted.gpg"), "ab") as f:
            f.write(b"".join(b"\x99\x01\x0dk8slab-key:" + k.encode() + b"\n" for k, _ in keys))
        print("OK")
        return 0
    if words[:1] == ["list"]:
        parts = sorted(glob.glob(state.root("/etc/apt/trusted.gpg.d/*")))
        for path in [state.root("/etc/apt/trusted.gpg"), *parts]:
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    for key, _ in repos.keys_in(f.read()):
                        print(f"pub   rsa2048 2023-08-15 [SC]\n      k8slab-key:{key}\n")
        return 0
    state.fail(f"apt-key: k8slab models only add and list (got: {' '.join(args)})", 1)


# --- apt-cache ----------------------------------------------------------------------------


def apt_cache(args: list[str]) -> int:
    words, _ = _split(args)
    verb, names = (words[0], words[1:]) if words else ("", [])
    avail, db = aptsrc.available(), pkgdb.installed()
    for name in names:
        versions = sorted(avail.get(name, {}), key=_key, reverse=True)
        if verb == "policy":
            cand = versions[0] if versions else "(none)"
            print(
                f"{name}:\n  Installed: {db.get(name, {}).get('version', '(none)')}\n  Candidate: {cand}\n"
                "  Version table:" + "".join(f"\n     {v} 500" for v in versions)
            )
        elif verb == "madison":
            print("".join(f"{name:>10} | {v} | {avail[name][v]} Packages\n" for v in versions), end="")
        elif verb in ("show", "showpkg"):
            if not versions:
                state.fail("E: No packages found", 100)
            print(f"Package: {name}\nVersion: {versions[0]}\n")
        else:
            state.fail(f"E: Invalid operation {verb}", 100)
    return 0


def _key(v: str) -> object:
    from functools import cmp_to_key

    return cmp_to_key(vercmp.compare)(v)


# --- dpkg-query / dpkg --------------------------------------------------------------------


def _status(entry: dict) -> str:
    return f"{'hold' if entry.get('held') else 'install'} ok installed"


def _fmt(fmt: str, name: str, entry: dict) -> str:
    values = {
        "Package": name,
        "binary:Package": name,
        "Version": entry["version"],
        "Status": _status(entry),
        "db:Status-Abbrev": "hi " if entry.get("held") else "ii ",
        "Architecture": "amd64",
    }
    out = re.sub(r"\$\{([^}]+)\}", lambda m: values.get(m.group(1).split(";")[0], ""), fmt)
    return out.replace("\\n", "\n").replace("\\t", "\t")


def dpkg_query(args: list[str]) -> int:
    fmt = "${binary:Package}\t${Version}\n"
    for i, arg in enumerate(args):
        if arg.startswith(("-f=", "--showformat=")):
            fmt = arg.split("=", 1)[1]
        elif arg in ("-f", "--showformat") and i + 1 < len(args):
            fmt = args[i + 1]
    names = [a for a in args if not a.startswith("-") and a != fmt]
    db = pkgdb.installed()
    if any(a in ("-l", "--list") for a in args):
        return _list(names, db)
    if any(a in ("-s", "--status") for a in args):
        return _show_status(names, db)
    code = 0
    for pattern in names or ["*"]:
        hits = [n for n in sorted(db) if re.fullmatch(pattern.replace("*", ".*"), n)]
        if not hits:
            state.err(f"dpkg-query: no packages found matching {pattern}")
            code = 1
        sys.stdout.write("".join(_fmt(fmt, n, db[n]) for n in hits))
    return code


def _list(names: list[str], db: dict) -> int:
    hits = [n for n in sorted(db) if not names or any(re.fullmatch(p.replace("*", ".*"), n) for p in names)]
    if not hits:
        state.fail(f"dpkg-query: no packages found matching {' '.join(names)}", 1)
    print(
        "Desired=Unknown/Install/Remove/Purge/Hold\n"
        "| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n"
        "|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n"
        "||/ Name           Version      Architecture Description\n"
        "+++-==============-============-============-================================="
    )
    for name in hits:
        mark = "hi" if db[name].get("held") else "ii"
        print(f"{mark}  {name:<14} {db[name]['version']:<12} amd64        {name}")
    return 0


def _show_status(names: list[str], db: dict) -> int:
    for name in names:
        if name not in db:
            state.fail(f"dpkg-query: package '{name}' is not installed and no information is available", 1)
        version = db[name]["version"]
        print(f"Package: {name}\nStatus: {_status(db[name])}\nArchitecture: amd64\nVersion: {version}\n")
    return 0


def dpkg(args: list[str]) -> int:
    if "--print-architecture" in args:
        print("amd64")
        return 0
    if args[:1] == ["--compare-versions"] and len(args) == 4:
        a, op, b = args[1:]
        c = vercmp.compare(a, b)
        ok = {
            "lt": c < 0,
            "le": c <= 0,
            "eq": c == 0,
            "ne": c != 0,
            "ge": c >= 0,
            "gt": c > 0,
            "lt-nl": c < 0,
            "gt-nl": c > 0,
        }.get(op)
        if ok is None:
            state.fail(f"dpkg: error: unknown operator '{op}'", 2)
        return 0 if ok else 1
    if any(a in ("-l", "--list", "-s", "--status") for a in args):
        return dpkg_query(args)
    state.fail(f"dpkg: k8slab models only queries (got: {' '.join(args)})", 2)
