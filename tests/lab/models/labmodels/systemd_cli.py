"""Command lines of systemctl, journalctl, hostnamectl and timedatectl over systemd.py's state."""

from __future__ import annotations

import re
import socket
import time

from . import state, systemd
from .systemd import canonical

_FLAGS = {
    "--no-pager",
    "--quiet",
    "-q",
    "--now",
    "--no-block",
    "--system",
    "--no-legend",
    "--all",
    "-a",
    "--full",
    "-l",
    "--plain",
    "--value",
    "--no-ask-password",
    "--force",
    "-f",
}


def systemctl(args: list[str]) -> int:
    flags = {a for a in args if a in _FLAGS}
    props = [a.split("=", 1)[1] for a in args if a.startswith("--property=")]
    rest, i = [], 0
    while i < len(args):
        if args[i] in ("-p", "--property", "-t", "--type", "--state", "-n", "--lines"):
            if args[i] in ("-p", "--property"):
                props.append(args[i + 1])
            i += 2
            continue
        if not args[i].startswith("-"):
            rest.append(args[i])
        i += 1
    kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "")
    if not rest:
        return _list(kind)
    verb, names = rest[0], [canonical(n) for n in rest[1:]]
    quiet = "--quiet" in flags or "-q" in flags
    return _verb(verb, names, flags, props, quiet, kind)


def _verb(verb: str, names: list[str], flags: set[str], props: list[str], quiet: bool, kind: str) -> int:
    if verb in ("daemon-reload", "daemon-reexec", "reset-failed"):
        state.save("systemd/reload.json", {"at": time.time()})
        return 0
    if verb in ("list-units", "list-unit-files"):
        return _list(kind, names[0] if names else "")
    if verb in ("is-active", "is-failed"):
        words = [systemd.active_word(n) for n in names]
        if not quiet:
            print("\n".join(words))
        want = "active" if verb == "is-active" else "failed"
        return 0 if all(w == want for w in words) else (3 if verb == "is-active" else 1)
    if verb == "is-enabled":
        return _is_enabled(names, quiet)
    if verb == "status":
        return _status(names)
    if verb == "show":
        return _show(names, props, "--value" in flags)
    if verb == "cat":
        return _cat(names)
    actions = {
        "start": [systemd.start],
        "stop": [systemd.stop],
        "restart": [systemd.start],
        "try-restart": [systemd.start],
        "reload-or-restart": [systemd.start],
        "reload": [systemd.start],
        "enable": [systemd.enable] + ([systemd.start] if "--now" in flags else []),
        "disable": [systemd.disable] + ([systemd.stop] if "--now" in flags else []),
        "mask": [systemd.mask] + ([systemd.stop] if "--now" in flags else []),
        "unmask": [systemd.unmask],
    }
    if verb not in actions:
        state.fail(f"Unknown command verb '{verb}'.", 1)
    if not names:
        state.fail("Too few arguments.", 1)
    with state.locked("systemd.lock"):
        for name in names:
            for action in actions[verb]:
                if verb in ("try-restart",) and not systemd.is_active(name):
                    continue
                action(name)
    return 0


def _is_enabled(names: list[str], quiet: bool) -> int:
    code = 0
    for name in names:
        word = systemd.enabled_word(name)
        if not word:
            state.err(f"Failed to get unit file state for {name}: No such file or directory")
            code = 1
            continue
        if not quiet:
            print(word)
        code = code or (0 if word == "enabled" else 1)
    return code


def _status(names: list[str]) -> int:
    code = 0
    for name in names:
        data = systemd.info(name)
        if data is None:
            state.err(f"Unit {name} could not be found.")
            code = 4
            continue
        active = systemd.active_word(name)
        sub = {"active": "active (running)", "failed": "failed (Result: exit-code)"}.get(
            active, "inactive (dead)"
        )
        print(
            f"● {name} - {name}\n     Loaded: loaded (/usr/lib/systemd/system/{name}; "
            f"{systemd.enabled_word(name)}; preset: enabled)\n     Active: {sub}"
        )
        for line in systemd.journal_lines(name)[-10:]:
            print(line)
        code = code or (0 if active == "active" else 3)
    return code


def _show(names: list[str], props: list[str], value_only: bool) -> int:
    for name in names:
        data = systemd.info(name)
        values = {
            "Id": name,
            "LoadState": "loaded"
            if data
            else ("masked" if systemd.enabled_word(name) == "masked" else "not-found"),
            "ActiveState": systemd.active_word(name),
            "UnitFileState": systemd.enabled_word(name),
            "SubState": "running" if systemd.is_active(name) else "dead",
        }
        wanted = [p for prop in props for p in prop.split(",")] or list(values)
        for prop in wanted:
            print(values.get(prop, "") if value_only else f"{prop}={values.get(prop, '')}")
    return 0


def _cat(names: list[str]) -> int:
    for name in names:
        text = state.read(f"{systemd.ETC}/{name}") or state.read(f"/usr/lib/systemd/system/{name}")
        if systemd.info(name) is None or not text:
            state.fail(f"No files found for {name}.", 1)
        print(f"# /usr/lib/systemd/system/{name}\n{text}")
    return 0


def _list(kind: str, pattern: str = "") -> int:
    for unit in systemd.all_units():
        if kind and not unit.endswith("." + kind):
            continue
        if pattern and not re.fullmatch(pattern.replace(".", r"\.").replace("*", ".*"), unit):
            continue
        active = systemd.active_word(unit)
        sub = "running" if active == "active" else "dead"
        print(f"{unit} loaded {active} {sub} {unit}")
    return 0


def journalctl(args: list[str]) -> int:
    units = [canonical(args[i + 1]) for i, a in enumerate(args[:-1])
             if a == "--unit" or re.fullmatch(r"-[a-zA-Z]*u", a)]  # -u, -xeu
    units += [canonical(a.split("=", 1)[1]) for a in args if a.startswith("--unit=")]
    count = 1000 if any(re.fullmatch(r"-[a-zA-Z]*e[a-zA-Z]*", a) for a in args) else 10**6  # -e: -n 1000
    for i, a in enumerate(args):
        if a in ("-n", "--lines") and i + 1 < len(args):
            count = int(args[i + 1])
        elif a.startswith("--lines=") or (a.startswith("-n") and a[2:].isdigit()):
            count = int(a.split("=", 1)[-1] if "=" in a else a[2:])
    lines = [line for u in units for line in systemd.journal_lines(u)]
    print("\n".join(lines[-count:]) if lines else "-- No entries --")
    return 0


_HOSTNAME = re.compile(r"^(?=.{1,63}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")


def hostnamectl(args: list[str]) -> int:
    words = [a for a in args if not a.startswith("-")]
    if words[:1] == ["set-hostname"] and len(words) == 2:
        name = words[1]
        if not _HOSTNAME.match(name.split(".")[0]):
            state.fail(f'Invalid hostname "{name}"', 1)
        state.write("/etc/hostname", name + "\n")
        socket.sethostname(name)  # what `hostname NAME` does
        return 0
    if not words or words[0] in ("status", "hostname"):
        name = state.read("/etc/hostname").strip()
        print(name if "--static" in args or words[:1] == ["hostname"] else f" Static hostname: {name}")
        return 0
    state.fail(f"Unknown command verb '{words[0]}'.", 1)


def timedatectl(args: list[str]) -> int:
    words = [a for a in args if not a.startswith("-")]
    ntp = any(
        systemd.is_active(u) for u in ("chrony.service", "chronyd.service", "systemd-timesyncd.service")
    )
    if not words or words[0] in ("status", "show"):
        print(
            f"               Local time: {time.strftime('%a %Y-%m-%d %H:%M:%S %Z')}\n"
            f"System clock synchronized: {'yes' if ntp else 'no'}\n"
            f"              NTP service: {'active' if ntp else 'inactive'}"
        )
        return 0
    if words[0] == "set-timezone" and len(words) == 2:
        if not state.read(f"/usr/share/zoneinfo/{words[1]}", "") and words[1] != "UTC":
            state.fail(f'Failed to set time zone: Invalid or not installed time zone "{words[1]}"', 1)
        state.save("timezone.json", {"zone": words[1]})
        return 0
    if words[0] == "set-ntp" and len(words) == 2:
        return 0
    state.fail(f"Unknown command verb '{words[0]}'.", 1)
