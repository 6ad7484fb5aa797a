"""Cross-field rules of the cluster file (`cluster-file.md`): each broken rule is a Problem naming a field.

`check` returns what must be fixed before anything runs; `warnings` what is allowed but risky.
Structural rules (types, enums, shell-safe values) live in the models of `k8stui.model.cluster`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from k8stui.model import versions
from k8stui.model.cluster import ClusterSpec
from k8stui.model.problems import Problem, problem
from k8stui.model.versions import Version

if TYPE_CHECKING:
    from ipaddress import IPv4Network, IPv6Network

    Network = IPv4Network | IPv6Network

NODE_MASK = {4: 24, 6: 64}  # kube-controller-manager's default node-cidr-mask-size per family
MAX_NODE_MASK_DIFF = 16  # kube-controller-manager: node mask at most 16 bits longer than the cluster's
MIN_SERVICE_PREFIX = {4: 12, 6: 108}  # kube-apiserver: a service range of at most 20 host bits
DNS_SERVICE_INDEX = 10  # kubeadm gives CoreDNS the 10th address of the service range
CHINA_MIRRORS = ("aliyun", "aliyun-legacy", "ustc", "tuna")


def check(spec: ClusterSpec) -> list[Problem]:
    """Every cross-field problem, in a stable order (nodes, then network, then versions)."""
    found: list[Problem] = []
    for rule in RULES:
        found.extend(rule(spec))
    return found


def warnings(spec: ClusterSpec) -> list[Problem]:
    """Choices that are valid but deserve a second look (each names its field)."""
    found: list[Problem] = []
    for rule in WARNINGS:
        found.extend(rule(spec))
    return found


def validate_file(path: str | os.PathLike[str]) -> tuple[ClusterSpec | None, list[Problem], list[Problem]]:
    """(spec, problems, warnings) of a file; see `k8stui.model.load.validate_text`."""
    from k8stui.model.load import validate_file as _validate  # load imports this module

    return _validate(path)


def _at(index: int, key: str) -> str:
    return f"nodes[{index}].{key}"


def _label(spec: ClusterSpec, index: int) -> str:
    return f"nodes[{index}] ({spec.nodes[index].name})"


# ------------------------------------------------------------------------------------------------ nodes


def _has_nodes(spec: ClusterSpec) -> Iterator[Problem]:
    if not spec.nodes:
        yield problem("nodes", "at least one node is needed, with role: control-plane")


def _unique_names(spec: ClusterSpec) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, node in enumerate(spec.nodes):
        if node.name in seen:
            yield problem(
                _at(i, "name"),
                f"{node.name!r} is already the name of nodes[{seen[node.name]}]; "
                "node names must be unique",
            )
        seen.setdefault(node.name, i)


def _unique_addresses(spec: ClusterSpec) -> Iterator[Problem]:
    """Several NAT'd nodes may share one address with different SSH ports (or bastions)."""
    seen: dict[tuple[str, int, str | None], int] = {}
    for i, node in enumerate(spec.nodes):
        ssh = spec.ssh_for(node)
        key = (node.address.lower(), ssh.port, ssh.bastion)
        if key in seen:
            yield problem(
                _at(i, "address"),
                f"{node.address} port {ssh.port} is already {_label(spec, seen[key])}; "
                "nodes sharing one address need different ssh.port values",
            )
        seen.setdefault(key, i)


def _node_ips(spec: ClusterSpec) -> Iterator[Problem]:
    """Every node needs an IP of its own: internalIP, or an address that is an IP."""
    seen: dict[str, int] = {}
    for i, node in enumerate(spec.nodes):
        ip = node.node_ip
        if ip is None:
            yield problem(
                _at(i, "internalIP"),
                f"node {node.name!r} is reached by the name {node.address!r}; "
                "set internalIP to the IP Kubernetes should use for it",
            )
        elif ip in seen:
            why = "" if node.internal_ip else " (it defaults to address: set internalIP on nodes behind NAT)"
            other = _label(spec, seen[ip])
            yield problem(_at(i, "internalIP"), f"{ip} is also the internal IP of {other}{why}")
        else:
            seen[ip] = i


def _control_planes(spec: ClusterSpec) -> Iterator[Problem]:
    count = len(spec.control_planes)
    if spec.nodes and count == 0:
        yield problem("nodes", "no node has role: control-plane; mark one (the first runs kubeadm init)")
    elif count > 1 and spec.kubernetes.control_plane_endpoint is None:
        yield problem(
            "kubernetes.controlPlaneEndpoint",
            f"{count} control-plane nodes need a controlPlaneEndpoint (host:port of a load balancer "
            "or a DNS name in front of them); or keep a single control-plane node",
        )


def _sudo(spec: ClusterSpec) -> Iterator[Problem]:
    """A non-root user who may not sudo can install nothing; name the block that says so, once."""
    cluster_wide: list[str] = []
    for i, node in enumerate(spec.nodes):
        ssh = spec.ssh_for(node)
        if ssh.user == "root" or ssh.sudo != "never":
            continue
        if node.ssh and node.ssh.model_fields_set & {"user", "sudo"}:
            yield problem(_at(i, "ssh.sudo"), f"{_NO_SUDO.format(user=ssh.user)}")
        else:
            cluster_wide.append(node.name)
    if cluster_wide:
        yield problem("ssh.sudo", f"{_NO_SUDO.format(user=spec.ssh.user)} (nodes {_some(cluster_wide)})")


_NO_SUDO = "user {user!r} with sudo: never cannot install anything (every step needs root); use sudo: auto"


def _some(items: list[str], limit: int = 3) -> str:
    """`a, b, c and 4 more`: enough to find them, short enough for one line."""
    head = ", ".join(items[:limit])
    return head if len(items) <= limit else f"{head} and {len(items) - limit} more"


# ---------------------------------------------------------------------------------------------- network


def _network(text: str) -> Network:
    return ipaddress.ip_network(text, strict=False)


def _subnets(spec: ClusterSpec) -> Iterator[Problem]:
    pod, svc = _network(spec.network.pod_subnet), _network(spec.network.service_subnet)
    if pod.version != svc.version:
        yield problem(
            "network.serviceSubnet",
            f"{svc} is IPv{svc.version} but podSubnet {pod} is "
            f"IPv{pod.version}; both must be the same IP family",
        )
    elif pod.overlaps(svc):
        yield problem("network.serviceSubnet", f"{svc} overlaps podSubnet {pod}; pick ranges that do not")
    yield from _subnets_vs_nodes(spec, pod, svc)


def _subnets_vs_nodes(spec: ClusterSpec, pod: Network, svc: Network) -> Iterator[Problem]:
    inside: dict[str, list[str]] = {"podSubnet": [], "serviceSubnet": []}
    for i, node in enumerate(spec.nodes):
        if node.node_ip is None:
            continue
        ip = ipaddress.ip_address(node.node_ip)
        if ip.version != svc.version:
            yield problem(
                _at(i, "internalIP"),
                f"{ip} is IPv{ip.version} but serviceSubnet is IPv{svc.version}; "
                "the node IPs and the subnets must be the same IP family",
            )
            continue
        for key, net in (("podSubnet", pod), ("serviceSubnet", svc)):
            if ip.version == net.version and ip in net:
                inside[key].append(f"{ip} of {node.name}")
    for key, net in (("podSubnet", pod), ("serviceSubnet", svc)):
        if inside[key]:
            yield problem(f"network.{key}", f"{net} contains node IPs ({_some(inside[key])}); "
                                            "pick a range your machines do not use")


def _pod_capacity(spec: ClusterSpec) -> Iterator[Problem]:
    """kube-controller-manager gives each node a /24 (IPv4) or /64 (IPv6) out of podSubnet."""
    pod = _network(spec.network.pod_subnet)
    mask = NODE_MASK[pod.version]
    if pod.prefixlen > mask:
        yield problem(
            "network.podSubnet",
            f"{pod} is smaller than the /{mask} each node gets; "
            f"use a /{mask - 8} or larger (e.g. 10.244.0.0/16)",
        )
    elif mask - pod.prefixlen > MAX_NODE_MASK_DIFF:
        yield problem(
            "network.podSubnet",
            f"{pod} is too large: kube-controller-manager needs a prefix of at "
            f"least /{mask - MAX_NODE_MASK_DIFF} (node ranges are /{mask})",
        )
    elif 2 ** (mask - pod.prefixlen) < len(spec.nodes):
        yield problem(
            "network.podSubnet",
            f"{pod} has room for {2 ** (mask - pod.prefixlen)} nodes "
            f"(each gets a /{mask}) but the file has {len(spec.nodes)}",
        )


def _service_size(spec: ClusterSpec) -> Iterator[Problem]:
    svc = _network(spec.network.service_subnet)
    if svc.prefixlen < MIN_SERVICE_PREFIX[svc.version]:
        yield problem(
            "network.serviceSubnet",
            f"{svc} is too large: kube-apiserver accepts at most "
            f"/{MIN_SERVICE_PREFIX[svc.version]} (e.g. 10.96.0.0/12)",
        )
    elif svc.num_addresses <= DNS_SERVICE_INDEX:
        yield problem(
            "network.serviceSubnet",
            f"{svc} is too small: CoreDNS takes its 10th address; "
            "use /28 or larger (e.g. 10.96.0.0/12)",
        )


# --------------------------------------------------------------------------------------------- versions


def _version(spec: ClusterSpec) -> Version:
    return Version.parse(spec.kubernetes.version)


def _versions(spec: ClusterSpec) -> Iterator[Problem]:
    v, k8s = _version(spec), spec.kubernetes
    if not versions.known(v):
        yield problem(
            "kubernetes.version",
            f"{v} is not a version k8stui knows "
            f"(1.{versions.MIN_MINOR} to 1.{versions.MAX_MINOR})",
        )
        return
    checks = (
        ("kubernetes.packageMirror", versions.mirror_problem(k8s.package_mirror, v)),
        ("kubernetes.runtime", versions.runtime_problem(k8s.runtime, v)),
        ("network.proxyMode", versions.proxy_mode_problem(spec.network.proxy_mode, v)),
    )
    yield from (problem(path, message) for path, message in checks if message)


RULES: tuple[Callable[[ClusterSpec], Iterator[Problem]], ...] = (
    _has_nodes, _unique_names, _unique_addresses, _node_ips, _control_planes, _sudo,
    _subnets, _pod_capacity, _service_size, _versions,
)


# --------------------------------------------------------------------------------------------- warnings


def _token_ttl(spec: ClusterSpec) -> Iterator[Problem]:
    if spec.kubernetes.token_ttl == "0":
        yield problem(
            "kubernetes.tokenTTL",
            "0 makes a bootstrap token that never expires: a standing "
            "credential to join the cluster; prefer 24h (k8stui makes fresh ones)",
        )


def _support(spec: ClusterSpec) -> Iterator[Problem]:
    v = _version(spec)
    if not versions.known(v):
        return
    level = versions.support_level(v)
    supported = f"1.{versions.SUPPORTED_MINORS[0]}-1.{versions.SUPPORTED_MINORS[-1]}"
    if level == "end-of-life":
        message = f"{v.minor_str} is past its upstream end of life (supported: {supported})"
        yield problem("kubernetes.version", message)
    elif level == "legacy":
        yield problem(
            "kubernetes.version",
            f"{v.minor_str} is from the docker era: k8stui renders it, but it is "
            f"long unsupported upstream (supported: {supported})",
        )
    latest = versions.LATEST_PATCH[v.minor]
    if v.patch > latest:
        yield problem(
            "kubernetes.version",
            f"{v} is newer than the latest patch k8stui knows (1.{v.minor}.{latest}); "
            "the install fails if the repository does not carry it",
        )


def _catalog_warnings(spec: ClusterSpec) -> Iterator[Problem]:
    v = _version(spec)
    if not versions.known(v):
        return
    checks = (
        ("kubernetes.packageMirror", versions.mirror_warning(spec.kubernetes.package_mirror, v)),
        ("network.proxyMode", versions.proxy_mode_warning(spec.network.proxy_mode, v)),
    )
    yield from (problem(path, message) for path, message in checks if message)


def _cgroup_v1(spec: ClusterSpec) -> Iterator[Problem]:
    if not spec.kubernetes.fail_cgroup_v1:
        yield problem(
            "kubernetes.failCgroupV1",
            "false lets the kubelet run on cgroup v1 hosts, which upstream "
            "deprecated; plan to move those hosts to cgroup v2",
        )


def _china_images(spec: ClusterSpec) -> Iterator[Problem]:
    k8s = spec.kubernetes
    if k8s.package_mirror in CHINA_MIRRORS and k8s.image_repository == "registry.k8s.io":
        yield problem(
            "kubernetes.imageRepository",
            f"registry.k8s.io is often unreachable where the {k8s.package_mirror} "
            "mirror is used; consider registry.aliyuncs.com/google_containers",
        )


def _schedulable(spec: ClusterSpec) -> Iterator[Problem]:
    if spec.nodes and not spec.workers and not spec.kubernetes.untaint_control_plane:
        yield problem(
            "kubernetes.untaintControlPlane",
            "there are no workers and the control plane keeps its "
            "NoSchedule taint, so no workload can run; set it to true",
        )


def _no_cni(spec: ClusterSpec) -> Iterator[Problem]:
    if spec.network.cni == "none":
        yield problem("network.cni", "none: nodes stay NotReady and CoreDNS Pending until you install a CNI")


WARNINGS: tuple[Callable[[ClusterSpec], Iterator[Problem]], ...] = (
    _token_ttl, _support, _catalog_warnings, _cgroup_v1, _china_images, _schedulable, _no_cni,
)
