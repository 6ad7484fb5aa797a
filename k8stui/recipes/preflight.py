"""Preflight across all nodes: what the gathered facts say about one node, before anything changes.

Pure Python (no I/O): `evaluate(spec, node, facts)` turns the facts of every node into findings for
one node. An error stops that node's install; a warning is shown and the install goes on. Each
finding says what was found, why it matters and how to fix it, in plain words.
"""

from __future__ import annotations

import ipaddress
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from k8stui.model import versions
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import SUPPORTED_OS, Facts, Nic
from k8stui.model.versions import Version

Severity = Literal["error", "warning"]
MIN_CPUS = 2
MIN_MEMORY_MB = 1700  # kubeadm's own threshold for "2 GB" (what a 2 GB VM reports after the kernel)
MAX_SKEW_S = 5.0
# Interfaces whose MACs repeat across healthy machines (bridges, tunnels, leftovers of a former install).
VIRTUAL_NICS = (
    "docker", "cni", "flannel", "cali", "veth", "kube-", "virbr", "tunl", "vxlan", "nodelocaldns",
    "br-", "lxc", "weave", "cilium",
)


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str  # stable identifier, e.g. "duplicate-product-uuid"
    node: str
    found: str  # what was found on the node
    why: str  # why it matters
    fix: str  # what to do, in plain words

    @property
    def text(self) -> str:
        return f"{self.found}: {self.why}. Fix: {self.fix}"

    def __str__(self) -> str:
        return f"{self.severity}: {self.node}: {self.text}"


@dataclass(frozen=True)
class _Node:
    """One node's facts next to everyone else's."""

    spec: ClusterSpec
    node: NodeSpec
    facts: Facts
    others: dict[str, Facts] = field(default_factory=dict)

    @property
    def version(self) -> Version:
        return Version.parse(self.spec.kubernetes.version)

    def finding(self, severity: Severity, code: str, *, found: str, why: str, fix: str) -> Finding:
        return Finding(severity, code, self.node.name, found, why, fix)


def evaluate(spec: ClusterSpec, node_name: str, facts: dict[str, Facts]) -> list[Finding]:
    """Findings for `node_name`, errors first, in a stable order."""
    node = spec.node(node_name)
    mine = facts.get(node_name)
    if mine is None:
        fix = "make the facts step succeed, then run again"
        return [Finding("error", "no-facts", node_name, found="no facts were gathered from this node",
                        why="every preflight check needs them", fix=fix)]
    names = {n.name for n in spec.nodes}
    others = {name: f for name, f in sorted(facts.items()) if name != node_name and name in names}
    ctx = _Node(spec, node, mine, others)
    return sorted((f for check in CHECKS for f in check(ctx)), key=_order)


def evaluate_all(spec: ClusterSpec, facts: dict[str, Facts]) -> dict[str, list[Finding]]:
    """`evaluate` for every node of the file, in file order."""
    return {node.name: evaluate(spec, node.name, facts) for node in spec.nodes}


def blocking(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def _order(finding: Finding) -> tuple[int, str, str]:
    return (0 if finding.severity == "error" else 1, finding.code, finding.found)


# ------------------------------------------------------------------------------------ cloned machines


def _names(nodes: list[str]) -> str:
    return ", ".join(nodes)


def _sharing(ctx: _Node, key: Callable[[Facts], str]) -> list[str]:
    """The other nodes whose `key` equals this node's (an empty value never matches)."""
    mine = key(ctx.facts)
    return [n for n, f in ctx.others.items() if mine and key(f) == mine]


def _duplicate_hostname(ctx: _Node) -> Iterator[Finding]:
    same = _sharing(ctx, lambda f: f.hostname.lower())
    if same:
        yield ctx.finding(
            "warning", "duplicate-hostname",
            found=f"hostname {ctx.facts.hostname!r} is also on {_names(same)}",
            why="node names and /etc/hosts entries would clash",
            fix=f"nothing: the hostname step renames it to {ctx.node.name!r}",
        )


def _duplicate_uuid(ctx: _Node) -> Iterator[Finding]:
    uuid = ctx.facts.product_uuid.strip().lower()
    same = _sharing(ctx, lambda f: f.product_uuid.strip().lower())
    if same:
        yield ctx.finding(
            "error", "duplicate-product-uuid",
            found=f"product_uuid {uuid} is also on {_names(same)}",
            why="Kubernetes expects every machine to be unique; this looks like a cloned VM",
            fix="give the VM a new UUID in the hypervisor (and a new /etc/machine-id), then run again",
        )


def _real_nics(facts: Facts) -> list[Nic]:
    return [n for n in facts.nics if n.addresses and n.mac and n.mac != "00:00:00:00:00:00"
            and not n.name.startswith(VIRTUAL_NICS)]


def _duplicate_mac(ctx: _Node) -> Iterator[Finding]:
    for nic in _real_nics(ctx.facts):
        mac = nic.mac.lower()
        same = [n for n, f in ctx.others.items() if any(o.mac.lower() == mac for o in _real_nics(f))]
        if same:
            yield ctx.finding(
                "error", "duplicate-mac",
                found=f"MAC {mac} of {nic.name} is also on {_names(same)}",
                why="two NICs with one MAC break traffic between the nodes; this looks like a cloned VM",
                fix=f"give {nic.name} a new MAC address in the hypervisor, then run again",
            )


# ------------------------------------------------------------------------------------------- machine


def _resources(ctx: _Node) -> Iterator[Finding]:
    if not ctx.node.is_control_plane:
        return
    cpus, memory = ctx.facts.cpus, ctx.facts.memory_mb
    if 0 < cpus < MIN_CPUS:  # 0 = could not be read
        yield ctx.finding(
            "error", "cpus", found=f"{cpus} CPU",
            why=f"kubeadm needs at least {MIN_CPUS} CPUs on a control-plane node",
            fix=f"give the machine {MIN_CPUS} or more CPUs",
        )
    if 0 < memory < MIN_MEMORY_MB:
        yield ctx.finding(
            "error", "memory", found=f"{memory} MB of memory",
            why=f"kubeadm needs about 2 GB (at least {MIN_MEMORY_MB} MB) on a control-plane node",
            fix="give the machine 2 GB of memory or more",
        )


def _operating_system(ctx: _Node) -> Iterator[Finding]:
    detected = ctx.facts.os
    if not detected.supported:
        unreadable = detected.id in ("unknown", "")
        yield ctx.finding(
            "error", "os-unsupported",
            found="no readable /etc/os-release" if unreadable else f"OS {detected}",
            why="k8stui has no tested recipes for it",
            fix=f"use one of {', '.join(SUPPORTED_OS)} (or another EL 7/8/9 rebuild)",
        )
    elif ctx.node.os and ctx.node.os != str(detected):
        yield ctx.finding(
            "warning", "os-mismatch", found=f"OS {detected}, but the file says os: {ctx.node.os}",
            why="the detected OS decides the recipes", fix=f"set os: {detected} in the file (or remove it)",
        )


def _cgroup(ctx: _Node) -> Iterator[Finding]:
    if ctx.facts.cgroup_version != 1 or not versions.cgroup_v1_refused(ctx.version):
        return
    why = f"the kubelet of {ctx.version.minor_str} refuses cgroup v1 hosts unless failCgroupV1 is false"
    if ctx.spec.kubernetes.fail_cgroup_v1:
        fix = "move the host to cgroup v2 (a newer OS), or set kubernetes.failCgroupV1: false"
        yield ctx.finding("error", "cgroup-v1", found="cgroup v1", why=why, fix=fix)
    else:
        fix = "nothing now (failCgroupV1: false); plan a move to cgroup v2, v1 support is deprecated"
        yield ctx.finding("warning", "cgroup-v1", found="cgroup v1", why=why, fix=fix)


def _swap(ctx: _Node) -> Iterator[Finding]:
    if ctx.facts.swap_kb > 0:
        yield ctx.finding(
            "warning", "swap", found=f"{ctx.facts.swap_kb // 1024} MB of swap in use",
            why="the kubelet refuses to start with swap on",
            fix="nothing: the swap step turns it off now and at boot",
        )


def _clock(ctx: _Node) -> Iterator[Finding]:
    clocks = [f.epoch for f in ctx.others.values() if f.epoch > 0]
    if ctx.facts.epoch <= 0 or not clocks:
        return
    skew = ctx.facts.epoch - statistics.median(clocks)
    if abs(skew) <= MAX_SKEW_S:
        return
    found = f"clock {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the other nodes"
    why = "certificates and etcd leases break when clocks disagree"
    if ctx.spec.host_prep.time_servers == []:  # time sync is left alone: nothing will fix it
        fix = "set the clock (or list hostPrep.timeServers) and run again"
        yield ctx.finding("error", "clock-skew", found=found, why=why, fix=fix)
    else:
        fix = "nothing: the timesync step fixes it"
        yield ctx.finding("warning", "clock-skew", found=found, why=why, fix=fix)


# ------------------------------------------------------------------------------------------- network


def _local_ips(facts: Facts) -> list[str]:
    """The node's own addresses worth showing (no loopback, no link-local)."""
    keep = []
    for text in facts.ips:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_link_local):
            keep.append(str(ip))
    return keep


def _node_ip(ctx: _Node) -> Iterator[Finding]:
    local = _local_ips(ctx.facts)
    if not local:
        yield ctx.finding(
            "warning", "no-addresses", found="no IP address on any NIC",
            why="k8stui cannot check that the node IP is local (is iproute2 installed?)",
            fix="make sure internalIP is an address of this machine",
        )
        return
    node, ip, listed = ctx.node, ctx.node.node_ip, ", ".join(local)
    if ip in local:
        return
    if node.internal_ip is not None:
        found = f"internalIP {ip} is on no NIC of this machine (it has {listed})"
    else:
        found = f"address {node.address} " + ("is a name" if ip is None else "is on no NIC (NAT/public IP)")
    code = "internal-ip-not-local" if node.internal_ip else "internal-ip-missing"
    yield ctx.finding(
        "error", code, found=found, why="Kubernetes needs an IP the node owns (kubelet node-ip)",
        fix=f"set internalIP to one of {listed} in the file",
    )


def _modules(ctx: _Node) -> Iterator[Finding]:
    needed = {
        "br_netfilter": "without it bridged pod traffic skips iptables and Services do not work",
        "overlay": "containerd's default snapshotter needs overlayfs",
    }
    if ctx.spec.network.proxy_mode == "ipvs":
        needed["ip_vs"] = "proxyMode: ipvs needs the IPVS modules"
    for module, why in needed.items():
        if module not in ctx.facts.modules:
            yield ctx.finding(
                "error", f"module-{module.replace('_', '-')}", found=f"kernel module {module} is missing",
                why=why, fix="install the kernel's extra modules (linux-modules-extra) or a kernel with it",
            )


# ----------------------------------------------------------------------------------- software found


def _runtime(ctx: _Node) -> Iterator[Finding]:
    name, _, found = ctx.facts.runtime.partition(" ")
    if name != "containerd" or ctx.spec.kubernetes.runtime != "containerd":
        return
    if found.startswith("1.") and versions.needs_containerd_2(ctx.version):
        yield ctx.finding(
            "warning", "containerd-1", found=f"containerd {found}",
            why=f"Kubernetes {ctx.version.minor_str} needs containerd 2.0 or newer",
            fix="nothing: the containerd step replaces it (running containers restart)",
        )


def _packages(ctx: _Node) -> Iterator[Finding]:
    target = ctx.version
    for package, text in sorted(ctx.facts.kube_packages.items()):
        found = _version_or_none(text)
        if found is None or found == target:
            continue
        if found.minor > target.minor:
            yield ctx.finding(
                "error", "kube-package-newer", found=f"{package} {found} is installed",
                why=f"it is newer than {target}, and k8stui never downgrades",
                fix=f"kubeadm reset and remove the kube packages, or set version: \"{found.minor_str[1:]}\"",
            )
        else:
            yield ctx.finding(
                "warning", "kube-package-other", found=f"{package} {found} is installed",
                why=f"the file asks for {target}", fix=f"nothing: the packages step installs {target}",
            )


def _version_or_none(text: str) -> Version | None:
    try:
        return Version.parse(text)
    except ValueError:
        return None


def _leave_alone(ctx: _Node) -> Iterator[Finding]:
    prep, facts = ctx.spec.host_prep, ctx.facts
    if prep.firewall == "leave" and facts.firewall not in ("none", ""):
        yield ctx.finding(
            "warning", "firewall", found=f"{facts.firewall} is active and hostPrep.firewall is leave",
            why="Kubernetes and the CNI need their ports open between the nodes",
            fix="open the ports yourself, or set hostPrep.firewall: open-ports",
        )
    if prep.selinux == "leave" and facts.selinux == "enforcing":
        yield ctx.finding(
            "warning", "selinux", found="SELinux is enforcing and hostPrep.selinux is leave",
            why="kubeadm's guide runs SELinux permissive", fix="set hostPrep.selinux: permissive",
        )


CHECKS: tuple[Callable[[_Node], Iterator[Finding]], ...] = (
    _duplicate_hostname, _duplicate_uuid, _duplicate_mac, _resources, _operating_system, _cgroup, _swap,
    _clock, _node_ip, _modules, _runtime, _packages, _leave_alone,
)
