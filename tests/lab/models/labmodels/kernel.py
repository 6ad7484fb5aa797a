"""modprobe/lsmod, sysctl and swapon/swapoff over the node's kernel views.

The lab bind-mounts STATE/proc/swaps over /proc/swaps, STATE/proc/meminfo over /proc/meminfo,
STATE/proc/modules over /proc/modules (when the kernel has one) and the directory STATE/proc/net-bridge
over /proc/sys/net/bridge. The net.bridge.* keys exist only while br_netfilter is "loaded", as on a
real kernel. Keys outside net.* are host-global: they are kept in STATE and never written to /proc.
"""

from __future__ import annotations

import os
import re

from . import state

BRIDGE_KEYS = {
    "bridge-nf-call-arptables": "1",
    "bridge-nf-call-ip6tables": "1",
    "bridge-nf-call-iptables": "1",
    "bridge-nf-filter-pppoe-tagged": "0",
    "bridge-nf-filter-vlan-tagged": "0",
    "bridge-nf-pass-vlan-input-dev": "0",
}
PROC_SYS = "/proc/sys"


def modules_dir() -> str:
    return f"/lib/modules/{os.uname().release}"


def available() -> dict[str, list[str]]:
    """module -> the modules it needs, from the node's modules.dep."""
    deps: dict[str, list[str]] = {}
    for line in state.read(f"{modules_dir()}/modules.dep").splitlines():
        head, _, rest = line.partition(":")
        deps[_mod(head)] = [_mod(p) for p in rest.split()]
    return deps


def _mod(p: str) -> str:
    return os.path.basename(p).split(".ko")[0].replace("-", "_")


def loaded() -> list[str]:
    return state.load("kernel/modules.json", [])


def _save_modules(mods: list[str]) -> None:
    state.save("kernel/modules.json", mods)
    users = {m: [o for o in mods if m in available().get(o, [])] for m in mods}
    lines = [
        f"{m} 32768 {len(users[m])} {''.join(u + ',' for u in users[m]) or '-'} Live 0x0000000000000000"
        for m in reversed(mods)
    ]
    with open(state.path("proc", "modules"), "w") as f:
        f.write("".join(line + "\n" for line in lines))
    _bridge_view("br_netfilter" in mods)


def _bridge_view(present: bool) -> None:
    folder = state.path("proc", "net-bridge")
    os.makedirs(folder, exist_ok=True)
    for key, default in BRIDGE_KEYS.items():
        target = os.path.join(folder, key)
        if present and not os.path.exists(target):
            with open(target, "w") as f:
                f.write(default + "\n")
        elif not present and os.path.exists(target):
            os.unlink(target)


def load_module(name: str) -> None:
    name = name.replace("-", "_")
    deps = available()
    if name not in deps:
        state.fail(f"modprobe: FATAL: Module {name} not found in directory {modules_dir()}", 1)
    mods = loaded()
    for dep in [*deps[name], name]:
        if dep not in mods:
            mods.append(dep)
    _save_modules(mods)


def unload_module(name: str) -> None:
    mods = loaded()
    if name not in mods:
        return
    if any(name in available().get(o, []) for o in mods if o != name):
        state.fail(f"modprobe: FATAL: Module {name} is in use.", 1)
    mods.remove(name)
    _save_modules(mods)


def modprobe(args: list[str]) -> int:
    quiet = any(a in ("-q", "--quiet") for a in args)
    names = [a for a in args if not a.startswith("-") and "=" not in a]
    if not any(a in ("-a", "--all") for a in args):
        names = names[:1]
    if not names:
        state.fail("modprobe: ERROR: missing parameters. See -h.", 1)
    with state.locked("kernel.lock"):
        for name in names:
            try:
                (unload_module if any(a in ("-r", "--remove") for a in args) else load_module)(name)
            except state.Fail:
                if quiet:
                    return 1
                raise
    return 0


def lsmod(args: list[str]) -> int:
    print("Module                  Size  Used by")
    with open(state.path("proc", "modules")) as f:
        for line in f:
            name, size, count, users = line.split()[:4]
            print(f"{name:<24}{size:>6}  {count} {users.rstrip(',').replace('-', '')}".rstrip())
    return 0


# --- sysctl -------------------------------------------------------------------------------


def _file(key: str) -> str:
    return f"{PROC_SYS}/{key.replace('.', '/')}" if "/" not in key else f"{PROC_SYS}/{key}"


def get(key: str) -> str:
    key = key.replace("/", ".")
    target = state.root(_file(key))
    if not key.startswith("net.") and key in state.load("kernel/sysctl.json", {}):
        return state.load("kernel/sysctl.json", {})[key]
    if not os.path.isfile(target):
        state.fail(f"sysctl: cannot stat {_file(key)}: No such file or directory", 255)
    with open(target) as f:
        return f.read().strip()


def put(key: str, value: str) -> None:
    key, value = key.replace("/", ".").strip(), " ".join(value.split())
    get(key)  # the key must exist, as for the real tool
    if key.startswith("net.bridge.") and value not in ("0", "1"):
        state.fail(f'sysctl: setting key "{key}": Invalid argument', 255)
    if key.startswith("net."):
        try:
            with open(state.root(_file(key)), "w") as f:
                f.write(value + "\n")
        except OSError as exc:
            state.fail(f'sysctl: setting key "{key}": {exc.strerror}', 255)
        return
    values = state.load("kernel/sysctl.json", {})
    values[key] = value
    state.save("kernel/sysctl.json", values)


_SYSTEM_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d")


def system_files() -> list[str]:
    chosen: dict[str, str] = {}
    for folder in _SYSTEM_DIRS:
        real = state.root(folder)
        if os.path.isdir(real):
            for name in sorted(os.listdir(real)):
                if name.endswith(".conf") and name not in chosen:
                    chosen[name] = f"{folder}/{name}"
    files = [chosen[n] for n in sorted(chosen)]
    return [*files, "/etc/sysctl.conf"] if os.path.isfile(state.root("/etc/sysctl.conf")) else files


def apply_file(name: str, quiet: bool) -> int:
    code = 0
    for raw in state.read(name).splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        ignore = line.startswith("-")
        key, sep, value = line.lstrip("-").partition("=")
        if not sep:
            continue
        try:
            put(key.strip(), value.strip())
            if not quiet:
                print(f"{key.strip()} = {value.strip()}")
        except state.Fail as exc:
            if not ignore:
                state.err(str(exc))
                code = 255
    return code


def sysctl(args: list[str]) -> int:
    flags = {a for a in args if a.startswith("-")}
    quiet = bool(flags & {"-q", "--quiet"})
    words = [a for a in args if not a.startswith("-")]
    if "--system" in flags:
        code = 0
        for name in system_files():
            print(f"* Applying {name} ...")
            code = apply_file(name, quiet) or code
        return code
    if flags & {"-p", "--load"} or any(a.startswith("--load=") for a in args):
        files = words or ["/etc/sysctl.conf"]
        return max(apply_file(f, quiet) for f in files)
    if flags & {"-a", "-A", "-X", "--all"}:
        return _dump(args)
    code = 0
    for word in words:
        try:
            code = _one(word, flags, quiet) or code
        except state.Fail as exc:
            if "-e" not in flags:
                state.err(str(exc))
                code = 255
    return code


def _one(word: str, flags: set[str], quiet: bool) -> int:
    key, sep, value = word.partition("=")
    if sep:
        put(key, value)
        if not quiet:
            print(f"{key} = {value}")
    else:
        print(get(key) if "-n" in flags else f"{key} = {get(key)}")
    return 0


def _dump(args: list[str]) -> int:
    pattern = next((args[i + 1] for i, a in enumerate(args) if a == "--pattern" and i + 1 < len(args)), "")
    base = state.root(PROC_SYS)
    for folder, _, files in os.walk(state.root(f"{PROC_SYS}/net")):
        for name in sorted(files):
            key = os.path.relpath(os.path.join(folder, name), base).replace("/", ".")
            if pattern and not re.search(pattern, key):
                continue
            try:
                print(f"{key} = {get(key)}")
            except (state.Fail, OSError):
                continue
    return 0


# --- swap -------------------------------------------------------------------------------


def active_swaps() -> list[str]:
    return [s[0] for s in state.load("kernel/swaps.json", [])]


def _save_swaps(swaps: list[list[str]]) -> None:
    state.save("kernel/swaps.json", swaps)
    rows = "".join(f"{n:<40}{t}\t\t{s}\t\t0\t\t-2\n" for n, t, s in swaps)
    with open(state.path("proc", "swaps"), "w") as f:
        f.write("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" + rows)
    total = sum(int(s) for _, _, s in swaps)
    meminfo = state.read_state("proc", "meminfo.host")
    meminfo = re.sub(r"^SwapTotal:.*$", f"SwapTotal:      {total:>8} kB", meminfo, flags=re.M)
    meminfo = re.sub(r"^SwapFree:.*$", f"SwapFree:       {total:>8} kB", meminfo, flags=re.M)
    with open(state.path("proc", "meminfo"), "w") as f:
        f.write(meminfo)


def find_swap(name: str) -> list[str] | None:
    """The swap area behind a name: its /proc/swaps name or another name of it (`/dev/mapper/cl-swap`
    is `/dev/dm-1` in /proc/swaps)."""
    alias = state.node().get("swap_aliases", {}).get(name, name)
    return next((d for d in state.load("kernel/swap_devices.json", []) if d[0] == alias), None)


def _fstab_swaps() -> list[str]:
    out = []
    for line in state.read("/etc/fstab").splitlines():
        fields = line.split()
        if (
            len(fields) >= 3
            and not fields[0].startswith("#")
            and fields[2] == "swap"
            and "noauto" not in line
        ):
            out.append(fields[0])
    return out


def swapoff(args: list[str]) -> int:
    swaps = state.load("kernel/swaps.json", [])
    targets = [a for a in args if not a.startswith("-")]
    if any(a in ("-a", "--all") for a in args):
        swaps = []
    for target in targets:
        if target not in [s[0] for s in swaps]:
            state.fail(f"swapoff: {target}: swapoff failed: Invalid argument", 255)
        swaps = [s for s in swaps if s[0] != target]
    _save_swaps(swaps)
    return 0


def swapon(args: list[str]) -> int:
    swaps = state.load("kernel/swaps.json", [])
    if any(a in ("--show", "-s", "--summary") or a.startswith("--show=") for a in args) or not args:
        if any(a in ("-s", "--summary") for a in args):
            print(state.read_state("proc", "swaps"), end="")
        elif swaps:
            if "--noheadings" not in args:
                print("NAME      TYPE      SIZE USED PRIO")
            for n, t, s in swaps:
                print(f"{n} {t} {int(s) // 1024}M 0B -2")
        return 0
    wanted = (
        _fstab_swaps()
        if any(a in ("-a", "--all") for a in args)
        else [a for a in args if not a.startswith("-")]
    )
    for target in wanted:
        device = find_swap(target)
        if device is None:
            state.fail(f"swapon: cannot open {target}: No such file or directory", 255)
        if device[0] not in [s[0] for s in swaps]:
            swaps.append(device)
    _save_swaps(swaps)
    return 0
