"""What the read-only `facts` step learns about a node, parsed from its published outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

# os-release ID -> family. EL = RHEL and rebuilds; the package manager follows the major version.
_EL_IDS = {"centos", "rhel", "rocky", "almalinux", "ol", "anolis", "alinux", "tencentos", "opencloudos"}
SUPPORTED_OS = (
    "centos-7", "centos-8", "rocky-8", "rocky-9", "almalinux-8", "almalinux-9", "rhel-8", "rhel-9",
    "debian-11", "debian-12", "ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04",
)


@dataclass(frozen=True)
class OsInfo:
    """A distro as recipes see it: `ubuntu-22.04` -> family debian, apt."""

    id: str
    version: str

    @classmethod
    def parse(cls, text: str) -> OsInfo:
        os_id, _, version = text.partition("-")
        return cls(os_id, version)

    def __str__(self) -> str:
        return f"{self.id}-{self.version}"

    @property
    def family(self) -> str:
        """`debian` (Debian, Ubuntu) or `el` (RHEL family)."""
        return "el" if self.id in _EL_IDS else "debian"

    @property
    def major(self) -> int:
        head = self.version.split(".")[0]
        return int(head) if head.isdigit() else 0

    @property
    def pkg(self) -> str:
        if self.family == "debian":
            return "apt"
        return "yum" if self.major <= 7 else "dnf"

    @property
    def el(self) -> int:
        """The EL major version (7, 8, 9), 0 off the RHEL family."""
        return self.major if self.family == "el" else 0

    @property
    def codename(self) -> str:
        return {
            "debian-11": "bullseye", "debian-12": "bookworm", "ubuntu-20.04": "focal",
            "ubuntu-22.04": "jammy", "ubuntu-24.04": "noble",
        }.get(str(self), "")

    @property
    def supported(self) -> bool:
        return str(self) in SUPPORTED_OS or (self.family == "el" and self.major in (7, 8, 9))


@dataclass(frozen=True)
class Nic:
    name: str
    mac: str
    addresses: tuple[str, ...]  # "10.0.0.11/24"


@dataclass(frozen=True)
class Facts:
    hostname: str
    os: OsInfo
    kernel: str
    arch: str
    cpus: int
    memory_mb: int
    cgroup_version: int
    product_uuid: str
    nics: tuple[Nic, ...] = ()
    swap_kb: int = 0
    firewall: str = "none"  # firewalld | ufw | none
    selinux: str = "absent"  # enforcing | permissive | disabled | absent
    runtime: str = "none"  # "containerd 1.7.24", "docker 20.10.7", "none"
    kube_packages: dict[str, str] = field(default_factory=dict)  # {"kubeadm": "1.34.6"}
    epoch: float = 0.0  # the node's clock when facts ran, to measure skew
    modules: tuple[str, ...] = ()  # br_netfilter / overlay availability

    @property
    def macs(self) -> tuple[str, ...]:
        return tuple(n.mac for n in self.nics if n.mac and n.mac != "00:00:00:00:00:00")

    @property
    def ips(self) -> tuple[str, ...]:
        return tuple(a.split("/")[0] for n in self.nics for a in n.addresses)

    def nic_for(self, ip: str) -> Nic | None:
        return next((n for n in self.nics if any(a.split("/")[0] == ip for a in n.addresses)), None)

    @classmethod
    def from_outputs(cls, out: dict[str, str]) -> Facts:
        """Build from the facts step's `::k8stui-output::` values (see templates/steps/facts.sh.j2)."""
        nics = []
        for item in filter(None, out.get("nics", "").split(";")):
            name, mac, addrs = [*item.split("|"), "", ""][:3]
            nics.append(Nic(name, mac, tuple(filter(None, addrs.split(",")))))
        packages = dict(p.split("=", 1) for p in out.get("kube_packages", "").split(",") if "=" in p)
        return cls(
            hostname=out.get("hostname", ""),
            os=OsInfo(out.get("os_id", "unknown"), out.get("os_version", "")),
            kernel=out.get("kernel", ""),
            arch=out.get("arch", ""),
            cpus=_int(out.get("cpus")),
            memory_mb=_int(out.get("memory_mb")),
            cgroup_version=_int(out.get("cgroup_version")) or 1,
            product_uuid=out.get("product_uuid", ""),
            nics=tuple(nics),
            swap_kb=_int(out.get("swap_kb")),
            firewall=out.get("firewall", "none"),
            selinux=out.get("selinux", "absent"),
            runtime=out.get("runtime", "none"),
            kube_packages=packages,
            epoch=float(out.get("epoch") or 0),
            modules=tuple(filter(None, out.get("modules", "").split(","))),
        )


def _int(text: str | None) -> int:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return 0
