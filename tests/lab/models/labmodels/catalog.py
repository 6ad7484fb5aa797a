"""The lab's package catalog: what each package installs, depends on, and which repositories carry it.

Distro packages are always available from the distro's own repositories; Kubernetes packages only from a
configured Kubernetes repository (repos.py decides which versions it carries); Docker CE packages only
from a Docker CE repository.
"""

from __future__ import annotations

from dataclasses import dataclass

KUBE = ("kubelet", "kubeadm", "kubectl", "cri-tools", "kubernetes-cni")
DOCKER = ("containerd.io", "docker-ce", "docker-ce-cli")


@dataclass(frozen=True)
class Pkg:
    name: str
    bins: tuple[str, ...] = ()  # absolute paths; each becomes a model wrapper on install
    units: tuple[str, ...] = ()
    deps: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    family: str = "any"  # any | debian | el: where the distro repositories carry it
    passive: bool = False  # its binaries only record calls (iptables, ipset, ...): see generic.py


def _p(name: str, *bins: str, **kw: object) -> Pkg:
    return Pkg(name, bins, **kw)  # type: ignore[arg-type]


_SYSTEMD_BINS = ("/usr/bin/systemctl", "/usr/bin/journalctl", "/usr/bin/hostnamectl", "/usr/bin/timedatectl")
_PASSIVE_NET = dict(passive=True)

PACKAGES: dict[str, Pkg] = {
    p.name: p
    for p in (
        _p("systemd", *_SYSTEMD_BINS),
        _p("procps", "/usr/sbin/sysctl"),
        _p("kmod", "/usr/sbin/modprobe", "/usr/sbin/lsmod"),
        _p("util-linux", "/usr/sbin/swapon", "/usr/sbin/swapoff"),
        _p("curl", "/usr/bin/curl"),
        _p("ca-certificates"),
        _p("openssl"),
        _p("sudo"),
        _p("openssh-server"),
        _p("iproute2", family="debian"),
        _p(
            "apt",
            "/usr/bin/apt-get",
            "/usr/bin/apt",
            "/usr/bin/apt-mark",
            "/usr/bin/apt-cache",
        "/usr/bin/apt-key",
            family="debian",
        ),
        _p("dpkg", "/usr/bin/dpkg", "/usr/bin/dpkg-query", family="debian"),
        _p("apt-transport-https", family="debian"),
        _p("gpg", "/usr/bin/gpg", family="debian"),
        _p("gnupg", family="debian", deps=("gpg",)),
        _p("ufw", "/usr/sbin/ufw", units=("ufw.service",), family="debian"),
        _p("systemd-timesyncd", units=("systemd-timesyncd.service",), family="debian"),
        _p("chrony", "/usr/bin/chronyc", units=("chrony.service",), conflicts=("systemd-timesyncd",)),
        _p("conntrack", "/usr/sbin/conntrack", family="debian", **_PASSIVE_NET),
        _p(
            "containerd",
            "/usr/bin/containerd",
            "/usr/bin/ctr",
            units=("containerd.service",),
            deps=("runc",),
            family="debian",
            conflicts=("containerd.io",),
        ),
        _p("runc", "/usr/sbin/runc", family="debian", conflicts=("containerd.io",)),
        _p("rpm", "/usr/bin/rpm", family="el"),
        _p("yum", "/usr/bin/yum", family="el"),
        _p("dnf", "/usr/bin/dnf", family="el"),
        _p("yum-utils", "/usr/bin/yum-config-manager", family="el"),
        _p("gnupg2", "/usr/bin/gpg", family="el"),
        _p("firewalld", "/usr/bin/firewall-cmd", units=("firewalld.service",), family="el"),
        _p("libselinux-utils", "/usr/sbin/getenforce", "/usr/sbin/setenforce", family="el"),
        _p("conntrack-tools", "/usr/sbin/conntrack", family="el", **_PASSIVE_NET),
        _p("iproute", family="el"),
        _p(
            "iptables",
            "/usr/sbin/iptables",
            "/usr/sbin/ip6tables",
            "/usr/sbin/iptables-save",
            "/usr/sbin/iptables-restore",
            **_PASSIVE_NET,
        ),
        _p("ipset", "/usr/sbin/ipset", **_PASSIVE_NET),
        _p("ipvsadm", "/usr/sbin/ipvsadm", **_PASSIVE_NET),
        _p("socat", "/usr/bin/socat", **_PASSIVE_NET),
        _p("ebtables", "/usr/sbin/ebtables", **_PASSIVE_NET),
        _p("ethtool", "/usr/sbin/ethtool", **_PASSIVE_NET),
        _p("tar"),
        _p("wget"),
        # Kubernetes (pkgs.k8s.io layout; see repos.py for the legacy layout's dependencies)
        _p(
            "kubelet",
            "/usr/bin/kubelet",
            units=("kubelet.service",),
            deps=("kubernetes-cni", "iptables", "socat", "ethtool", "ebtables", "@conntrack"),
        ),
        _p("kubeadm", "/usr/bin/kubeadm", deps=("cri-tools",)),
        _p("kubectl", "/usr/bin/kubectl"),
        _p("cri-tools", "/usr/bin/crictl"),
        _p(
            "kubernetes-cni",
            "/opt/cni/bin/bridge",
            "/opt/cni/bin/loopback",
            "/opt/cni/bin/host-local",
            "/opt/cni/bin/portmap",
            **_PASSIVE_NET,
        ),
        # Docker CE
        _p(
            "containerd.io",
            "/usr/bin/containerd",
            "/usr/bin/ctr",
            "/usr/bin/runc",
            units=("containerd.service",),
            conflicts=("containerd", "runc"),
        ),
        _p("docker-ce-cli", "/usr/bin/docker"),
        _p(
            "docker-ce",
            "/usr/bin/dockerd",
            units=("docker.service", "docker.socket"),
            deps=("containerd.io", "docker-ce-cli"),
        ),
    )
}

# Legacy repositories (apt.kubernetes.io / yum.kubernetes.io and the Aliyun copy): kubeadm pulled in
# kubelet and kubectl at their *newest* version unless pinned, the classic version-skew trap.
LEGACY_DEPS: dict[str, tuple[str, ...]] = {
    "kubeadm": ("kubelet", "kubectl", "kubernetes-cni", "cri-tools"),
    "kubelet": ("kubernetes-cni", "iptables", "socat", "ethtool", "ebtables", "@conntrack"),
}

# Fixed versions of distro packages: (deb, rpm).
DISTRO_VERSIONS: dict[str, tuple[str, str]] = {
    "containerd": ("1.7.24-0ubuntu1", ""),
    "runc": ("1.1.12-0ubuntu2", ""),
    "chrony": ("4.2-2ubuntu2", "4.3-1.el9"),
    "curl": ("7.81.0-1ubuntu1.20", "7.76.1-29.el9"),
    "iptables": ("1.8.7-1ubuntu5.2", "1.8.10-4.el9"),
}

DEBIAN_CONTAINERD = {
    "debian-12": "1.6.20~ds1-1+deb12u1",
    "ubuntu-20.04": "1.7.12-0ubuntu2~20.04.1",
    "ubuntu-22.04": "1.7.24-0ubuntu1~22.04.2",
    "ubuntu-24.04": "1.7.24-0ubuntu1~24.04.2",
}


def dep_name(dep: str, family: str) -> str:
    """`@conntrack` is conntrack on Debian, conntrack-tools on EL."""
    if dep == "@conntrack":
        return "conntrack" if family == "debian" else "conntrack-tools"
    return dep


def distro_version(name: str, node: dict[str, str]) -> str:
    family, key = node.get("family", "debian"), node.get("distro", "")
    if name == "containerd" and key in DEBIAN_CONTAINERD:
        return DEBIAN_CONTAINERD[key]
    deb, rpm = DISTRO_VERSIONS.get(name, ("1.0-1", f"1.0-1.el{node.get('el', 9)}"))
    return deb if family == "debian" else (rpm or f"1.0-1.el{node.get('el', 9)}")


def in_distro(name: str, family: str) -> bool:
    pkg = PACKAGES.get(name)
    return pkg is not None and name not in KUBE and name not in DOCKER and pkg.family in ("any", family)


def owner_of(binary: str, installed: dict[str, object]) -> str | None:
    """The installed package that provides this binary path."""
    for name in installed:
        pkg = PACKAGES.get(name)
        if pkg and binary in pkg.bins:
            return name
    return None
