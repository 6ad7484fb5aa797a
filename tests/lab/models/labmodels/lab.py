"""`k8slab init` (run once by the node's boot script) and `k8slab reboot` (what a reboot would reset).

`reboot` drops everything volatile (loaded modules, runtime sysctls, swap, SELinux mode, running
services, firewalld's runtime rules) and re-applies what the node's files say, like a real boot:
a recipe that only changed the running state fails its checks after it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import socket

from . import catalog, daemon, kernel, pkgdb, state, systemd

BOOT_MODULES = ["x_tables", "ip_tables"]
MODULE_DEPS = {
    "overlay": [],
    "bridge": ["stp", "llc"],
    "stp": ["llc"],
    "llc": [],
    "br_netfilter": ["bridge", "stp", "llc"],
    "x_tables": [],
    "ip_tables": ["x_tables"],
    "libcrc32c": [],
    "nf_defrag_ipv4": [],
    "nf_defrag_ipv6": [],
    "nf_conntrack": ["nf_defrag_ipv4", "nf_defrag_ipv6", "libcrc32c"],
    "nf_nat": ["nf_conntrack", "libcrc32c"],
    "ip_vs": ["nf_conntrack", "nf_defrag_ipv6", "libcrc32c"],
    "ip_vs_rr": ["ip_vs"],
    "ip_vs_wrr": ["ip_vs"],
    "ip_vs_sh": ["ip_vs"],
    "ip_vs_lc": ["ip_vs"],
    "xt_conntrack": ["nf_conntrack", "x_tables"],
    "iptable_nat": ["ip_tables", "nf_nat"],
    "iptable_filter": ["ip_tables"],
    "nf_tables": [],
    "vxlan": ["ip6_udp_tunnel", "udp_tunnel"],
    "ip6_udp_tunnel": [],
    "udp_tunnel": [],
    "ipip": ["tunnel4"],
    "tunnel4": [],
    "veth": [],
    "ipv6": [],
}


def _modules_dep(extra: list[str]) -> str:
    deps = dict(MODULE_DEPS, **{m: [] for m in extra})
    return "".join(
        f"kernel/{m}.ko:" + "".join(f" kernel/{d}.ko" for d in ds) + "\n" for m, ds in deps.items()
    )


def init() -> None:
    node = state.node()
    os.makedirs(state.path("proc", "net-bridge"), exist_ok=True)
    os.makedirs(os.path.join(state.LIB, "real"), exist_ok=True)
    shutil.copy2(state.root("/usr/bin/curl"), os.path.join(state.LIB, "real", "curl"))
    shutil.copy(state.root("/proc/meminfo"), state.path("proc", "meminfo.host"))
    state.write(f"{kernel.modules_dir()}/modules.dep", _modules_dep(node.get("extra_modules", [])))
    state.write(f"{kernel.modules_dir()}/modules.builtin", "")
    kernel._save_modules(list(BOOT_MODULES))
    _packages(node)
    state.save("kernel/swap_devices.json", [node["swap"]])
    kernel._save_swaps([node["swap"]])
    if node["family"] == "el":
        state.save("selinux.json", {"mode": "Enforcing"})
    for name in ("product_uuid", "product_name", "sys_vendor"):
        with open(state.path("sys", name) if os.path.isdir(state.path("sys")) else _mk(name), "w") as f:
            f.write(node.get(name, "k8slab") + "\n")
    os.chmod(state.path("sys", "product_uuid"), 0o400)


def _mk(name: str) -> str:
    os.makedirs(state.path("sys"), exist_ok=True)
    return state.path("sys", name)


def _packages(node: dict) -> None:
    family, installed = node["family"], set(node["packages"])
    for pkg in catalog.PACKAGES.values():
        if pkg.name not in installed:
            pkgdb.remove_bins(pkg, keep=set())
    for name in node["packages"]:
        pkgdb.add(name, catalog.distro_version(name, node), "distro", False, family, boot=True)
    for unit, (enabled, active) in node.get("units", {}).items():
        if systemd.info(unit) is None:
            systemd.register(unit, enabled, active, owner="distro")
        systemd._set(unit, enabled=enabled, active=active)


def _modules_to_load() -> list[str]:
    names = []
    for path in [*sorted(glob.glob(state.root("/etc/modules-load.d/*.conf"))), state.root("/etc/modules")]:
        names += [w for line in state.read(path).splitlines() for w in line.split("#")[0].split()[:1]]
    return names


def reboot() -> None:
    daemon.stop_all()  # model daemons (API server, kubelet agent) do not survive a reboot either
    kernel._save_modules(list(BOOT_MODULES))
    for name in _modules_to_load():
        try:
            kernel.load_module(name)
        except state.Fail as exc:
            state.journal("systemd-modules-load.service", str(exc))
    state.save("kernel/sysctl.json", {})
    kernel.put("net.ipv4.ip_forward", "0")
    for name in kernel.system_files():
        kernel.apply_file(name, quiet=True)
    masked = {u for u in systemd.all_units() if u.endswith(".swap") and systemd.enabled_word(u) == "masked"}
    areas = [kernel.find_swap(s) for s in kernel._fstab_swaps()]
    kernel._save_swaps([a for a in areas if a and systemd._escape(a[0]) + ".swap" not in masked])
    _selinux_at_boot()
    _services_at_boot()
    fw = state.load("firewalld.json", {"permanent": [], "runtime": []})
    state.save("firewalld.json", dict(fw, runtime=list(fw.get("permanent", []))))
    hostname = state.read("/etc/hostname").strip()
    if hostname:
        socket.sethostname(hostname)


def _selinux_at_boot() -> None:
    if state.node().get("family") != "el":
        return
    m = re.search(r"^SELINUX=(\w+)", state.read("/etc/selinux/config"), flags=re.M)
    state.save("selinux.json", {"mode": (m.group(1) if m else "enforcing").capitalize()})


def _services_at_boot() -> None:
    for unit in systemd.all_units():
        data = systemd.info(unit)
        if data is None or unit.endswith(".swap"):
            continue
        systemd._set(unit, active=False, failed=False)
        if data.get("enabled") and systemd.enabled_word(unit) != "masked":
            with contextlib.suppress(state.Fail):  # a unit failing at boot stays failed, as on a real boot
                systemd.start(unit)


def main(args: list[str]) -> int:
    verb = args[0] if args else ""
    if verb == "init":
        init()
    elif verb == "reboot":
        with state.locked():
            reboot()
    else:
        state.fail("usage: k8slab init|reboot", 2)
    return 0
