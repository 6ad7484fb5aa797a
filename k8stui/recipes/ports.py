"""Which ports a node must accept, per role and CNI, and where the control-plane endpoint points.

The one place for the port table of `kubeadm-facts.md` section 5: the firewall step opens these,
and a port matrix (reachability between nodes) can probe the same list.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

Proto = Literal["tcp", "udp", "ip"]  # "ip": a raw IP protocol number in `range` (calico IPIP is 4)


@dataclass(frozen=True)
class Port:
    """One firewall opening: `range` is "6443", "2379-2380", or an IP protocol number when proto is ip."""

    proto: Proto
    range: str
    purpose: str

    @property
    def first(self) -> int:
        return int(self.range.split("-")[0])

    @property
    def last(self) -> int:
        return int(self.range.split("-")[-1])

    @property
    def firewalld(self) -> str:
        """`firewall-cmd --add-port=` syntax (an IP protocol goes to `--add-protocol=` instead)."""
        return self.range if self.proto == "ip" else f"{self.range}/{self.proto}"

    @property
    def ufw(self) -> str:
        """`ufw allow` syntax: ranges use a colon."""
        return f"{self.range.replace('-', ':')}/{self.proto}"

    @property
    def label(self) -> str:
        """Human form, as in the facts sheet: `TCP 6443`, `IP protocol 4`."""
        return f"IP protocol {self.range}" if self.proto == "ip" else f"{self.proto.upper()} {self.range}"


CONTROL_PLANE = (
    Port("tcp", "6443", "Kubernetes API server"),
    Port("tcp", "2379-2380", "etcd server client API"),
    Port("tcp", "10250", "kubelet API"),
    Port("tcp", "10259", "kube-scheduler"),
    Port("tcp", "10257", "kube-controller-manager"),
)
WORKER = (
    Port("tcp", "10250", "kubelet API"),
    Port("tcp", "10256", "kube-proxy health check"),
    Port("tcp", "30000-32767", "NodePort Services"),
    Port("udp", "30000-32767", "NodePort Services"),
)
CNI: dict[str, tuple[Port, ...]] = {
    "flannel": (Port("udp", "8472", "flannel VXLAN"),),
    "calico": (
        Port("tcp", "179", "calico BGP"),
        Port("ip", "4", "calico IP-in-IP"),
        Port("udp", "4789", "calico VXLAN"),
        Port("tcp", "5473", "calico Typha"),
    ),
    "none": (),
}


def ports_for(role: str, cni: str, workloads: bool = False) -> list[Port]:
    """The openings a node of `role` needs with `cni`, without duplicates, in table order.

    `workloads`: a control plane that also runs pods (untainted) needs the worker ports too,
    or NodePorts and kube-proxy health checks would be blocked on it.
    """
    table = list(CONTROL_PLANE if role == "control-plane" else WORKER)
    if role == "control-plane" and workloads:
        table += WORKER
    table += CNI.get(cni, ())
    seen: set[tuple[str, str]] = set()
    unique = []
    for port in table:
        if (port.proto, port.range) not in seen:
            seen.add((port.proto, port.range))
            unique.append(port)
    return unique


@dataclass(frozen=True)
class Endpoint:
    """`controlPlaneEndpoint` split: the host (a DNS name or an IP) and the port."""

    host: str
    port: int

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


def parse_endpoint(text: str | None) -> Endpoint | None:
    """`k8s-api.internal:6443` -> Endpoint("k8s-api.internal", 6443); `[::1]:6443` keeps the IPv6 host."""
    if not text:
        return None
    host, _, port = text.rpartition(":")
    return Endpoint(host.strip("[]"), int(port))
