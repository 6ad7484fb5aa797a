"""What the Inventory table shows per node: pure functions of the spec and gathered facts."""

from __future__ import annotations

from collections import Counter

from k8stui.model import versions
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import Facts

MIN_CP_CPUS, MIN_CP_MEMORY_MB = 2, 1700  # kubeadm preflight: 2 CPUs, ~2 GB (it allows 1700 MB)


def ssh_label(spec: ClusterSpec, node: NodeSpec) -> str:
    """`user:port key|password|agent`: who SSH logs in as and how it authenticates."""
    ssh = spec.ssh_for(node)
    auth = "password" if ssh.password_env else "key" if ssh.identity_file else "agent"
    port = f":{ssh.port}" if ssh.port != 22 else ""
    return f"{ssh.user}{port} {auth}"


def fact_cells(facts: Facts | None) -> tuple[str, str, str, str]:
    """OS, kernel, size (CPUs and memory) and cgroup columns (dashes until the node was tested)."""
    if facts is None:
        return ("-", "-", "-", "-")
    memory = f"{facts.memory_mb / 1024:.1f}G" if facts.memory_mb else "?"
    kernel = facts.kernel.split("-")[0] or "?"  # 5.15.0-122-generic -> 5.15.0: the table must fit 100 columns
    return (str(facts.os), kernel, f"{facts.cpus or '?'}c {memory}", f"v{facts.cgroup_version}")


def role_label(node: NodeSpec) -> str:
    return "cp" if node.is_control_plane else "worker"


def flags(spec: ClusterSpec, facts: dict[str, Facts]) -> dict[str, list[str]]:
    """Per node: clones (same hostname / product_uuid / MAC as another node), too-small control planes,
    and cgroup v1 hosts a >= 1.35 kubelet refuses."""
    tested = [(n, facts[n.name]) for n in spec.nodes if n.name in facts]
    hostnames = Counter(f.hostname for _, f in tested if f.hostname)
    uuids = Counter(f.product_uuid for _, f in tested if f.product_uuid)
    macs = Counter(mac for _, f in tested for mac in set(f.macs))
    refuses_v1 = versions.cgroup_v1_refused(versions.Version.parse(spec.kubernetes.version))
    result: dict[str, list[str]] = {}
    for node, fact in tested:
        found = []
        if hostnames[fact.hostname] > 1:
            found.append("dup-hostname")
        if uuids[fact.product_uuid] > 1:
            found.append("dup-uuid")
        if any(macs[mac] > 1 for mac in set(fact.macs)):
            found.append("dup-mac")
        if node.is_control_plane and (0 < fact.cpus < MIN_CP_CPUS or 0 < fact.memory_mb < MIN_CP_MEMORY_MB):
            found.append("small")
        if ip_hint(node, fact) is not None:
            found.append("ip-not-local")
        if fact.cgroup_version == 1 and refuses_v1 and spec.kubernetes.fail_cgroup_v1:
            found.append("cgroup-v1")  # the kubelet of >= 1.35 refuses to start on this host
        result[node.name] = found
    return result


def ip_hint(node: NodeSpec, facts: Facts) -> str | None:
    """The node IP is on none of the machine's NICs (a NAT / public address): kubelet and kubeadm would
    advertise an address the machine does not have. Say which addresses it does have."""
    ip = node.node_ip
    if ip is None or not facts.ips or ip in facts.ips:
        return None
    local = ", ".join(a for a in facts.ips if not a.startswith(("127.", "::1", "fe80")))[:80]
    return f"{ip} is on no NIC of the machine; set Internal IP to one of its addresses ({local or 'none'})"
