"""curl (no network: only the lab's known URLs, and plain http(s) to lab/loopback addresses), gpg, chronyc."""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from urllib.parse import urlparse

from . import repos, state, systemd

KNOWN_NTP = re.compile(
    r"^(ntp\d?\.aliyun\.com|ntp\.ntsc\.ac\.cn|time\d?\.cloud\.tencent\.com|"
    r"([0-9]\.)?([a-z]+\.)?pool\.ntp\.org|time\.google\.com|ntp\.ubuntu\.com|[0-9.]+)$"
)


def _local(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return ip.is_loopback or ip in ipaddress.ip_network("172.30.0.0/16")


def curl(args: list[str]) -> int:
    urls = [a for a in args if re.match(r"^https?://", a)]
    if len(urls) == 1 and _local(urlparse(urls[0]).hostname or ""):
        real = os.path.join(state.LIB, "real", "curl")
        os.execv(real, [real, *args])  # a real request inside the lab network
    out = next(
        (args[i + 1] for i, a in enumerate(args) if a in ("-o", "--output") and i + 1 < len(args)), None
    )
    silent = any(re.fullmatch(r"-[a-zA-Z]*s[a-zA-Z]*", a) for a in args if not a.startswith("--"))
    show = any(re.fullmatch(r"-[a-zA-Z]*S[a-zA-Z]*", a) for a in args if not a.startswith("--"))
    if not urls:
        state.fail("curl: try 'curl --help' or 'curl --manual' for more information", 2)
    body = repos.fetch(urls[0])
    if body is None:
        host = urlparse(urls[0]).hostname or urls[0]
        if not silent or show:
            state.err(f"curl: (6) Could not resolve host: {host}")
        return 6
    if out and out != "-":
        state.write(out if out.startswith("/") else os.path.join(os.getcwd(), out), body)
    else:
        sys.stdout.write(body)
    return 0


def gpg(args: list[str]) -> int:
    if "--dearmor" not in args and "--enarmor" not in args:
        state.fail(f"gpg: k8slab models only --dearmor (got: {' '.join(args)})", 2)
    out = None
    for i, arg in enumerate(args):
        if arg in ("-o", "--output") and i + 1 < len(args):
            out = args[i + 1]
        elif arg.startswith("--output="):
            out = arg.split("=", 1)[1]
    inputs = [a for a in args if not a.startswith("-") and a != out]
    if inputs:
        with open(inputs[-1], "rb") as f:
            data = f.read()
    else:
        data = sys.stdin.buffer.read()
    key = repos.key_in(data)
    if key is None or not key[1]:
        state.fail("gpg: no valid OpenPGP data found.", 2)
    binary = b"\x99\x01\x0dk8slab-key:" + key[0].encode() + b"\n"
    if out and out != "-":
        if os.path.exists(out) and "--yes" not in args:
            state.fail(
                f"File '{out}' exists. Overwrite? (y/N) gpg: cannot open '/dev/tty': No such device or "
                "address\ngpg: dearmoring failed: File exists",
                2,
            )
        with open(out, "wb") as f:
            f.write(binary)
    else:
        sys.stdout.buffer.write(binary)
    return 0


def _chrony_conf() -> str:
    family = state.node().get("family")
    conf = state.read("/etc/chrony.conf") if family == "el" else state.read("/etc/chrony/chrony.conf")
    folder = state.root("/etc/chrony/sources.d")
    if family != "el" and os.path.isdir(folder):
        conf += "".join(
            state.read(f"/etc/chrony/sources.d/{n}")
            for n in sorted(os.listdir(folder))
            if n.endswith(".sources")
        )
    return conf


def chrony_sources() -> list[tuple[str, bool]]:
    """(server, reachable) per `server`/`pool` line: reachable when it is a public NTP name we know."""
    found = re.findall(r"^\s*(?:server|pool)\s+(\S+)", _chrony_conf(), flags=re.M)
    return [(name, bool(KNOWN_NTP.match(name))) for name in found]


def chronyc(args: list[str]) -> int:
    if not (systemd.is_active("chronyd.service") or systemd.is_active("chrony.service")):
        state.fail("506 Cannot talk to daemon", 1)
    words = [a for a in args if not a.startswith("-")]
    verb = words[0] if words else "tracking"
    sources = chrony_sources()
    synced = any(ok for _, ok in sources)
    if verb == "sources":
        print("MS Name/IP address         Stratum Poll Reach LastRx Last sample\n" + "=" * 79)
        for i, (name, ok) in enumerate(sources):
            mark = ("*" if i == 0 else "+") if ok else "?"
            stratum, reach = ("2", "377") if ok else ("0", "0")
            print(f"^{mark} {name:<27} {stratum}   6   {reach}    12   +1ms[ +1ms] +/- 10ms")
        return 0
    if verb == "tracking":
        print(
            f"Reference ID    : 0A000001 ({sources[0][0] if synced else ''})\n"
            f"Leap status     : {'Normal' if synced else 'Not synchronised'}"
        )
        return 0
    if verb in ("makestep", "burst"):
        print("200 OK")
        return 0
    if verb == "waitsync":
        return 0 if synced else 1
    state.fail("Unrecognized command", 1)
