"""The distros a lab node can play: os-release, cgroup version, package manager, what is preinstalled.

The package names here are the lab's own catalog (models/labmodels/catalog.py); a package listed in
`packages` starts installed, and its binaries are the lab's models on the node's PATH.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Distro:
    key: str  # "ubuntu-22.04"
    family: str  # "debian" | "el"
    os_release: dict[str, str]
    cgroup: int  # 1 | 2
    packages: tuple[str, ...]
    # unit -> (enabled, active) at boot
    units: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    extra_files: dict[str, str] = field(default_factory=dict)  # /etc/... -> content

    @property
    def selinux(self) -> bool:
        return self.family == "el"


_COMMON = (
    "systemd",
    "procps",
    "kmod",
    "util-linux",
    "curl",
    "ca-certificates",
    "openssl",
    "iproute2",
    "openssh-server",
    "sudo",
)
_DEB = (*_COMMON, "apt", "dpkg")
_EL = (*_COMMON, "rpm", "gnupg2", "firewalld", "chrony", "libselinux-utils", "iptables")
_EL_UNITS = {
    "sshd.service": (True, True),
    "firewalld.service": (True, True),
    "chronyd.service": (True, True),
    "crond.service": (True, True),
}


def _ubuntu(version: str, codename: str, cgroup: int) -> Distro:
    release = {
        "PRETTY_NAME": f"Ubuntu {version} LTS",
        "NAME": "Ubuntu",
        "VERSION_ID": version,
        "VERSION": f"{version} LTS ({codename.title()})",
        "VERSION_CODENAME": codename,
        "ID": "ubuntu",
        "ID_LIKE": "debian",
        "UBUNTU_CODENAME": codename,
    }
    sources = "".join(
        f"deb http://archive.ubuntu.com/ubuntu {codename}{suite} main restricted universe\n"
        for suite in ("", "-updates", "-security")
    )
    files = {"/etc/apt/sources.list": sources}
    if version >= "24.04":  # 24.04 moved the distro sources to deb822
        files = {
            "/etc/apt/sources.list": "# moved to /etc/apt/sources.list.d/ubuntu.sources\n",
            "/etc/apt/sources.list.d/ubuntu.sources": (
                "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu/\n"
                f"Suites: {codename} {codename}-updates {codename}-security\n"
                "Components: main restricted universe\n"
                "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n"
            ),
        }
    return Distro(
        key=f"ubuntu-{version}",
        family="debian",
        os_release=release,
        cgroup=cgroup,
        packages=(*_DEB, "gpg", "ufw", "iptables", "systemd-timesyncd"),
        units={
            "ssh.service": (True, True),
            "ufw.service": (True, False),
            "cron.service": (True, True),
            "systemd-timesyncd.service": (True, True),
        },
        extra_files={
            **files,
            "/etc/debian_version": "bookworm/sid\n",
            "/etc/lsb-release": f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={version}\n"
            f"DISTRIB_CODENAME={codename}\n",
        },
    )


def _debian12() -> Distro:
    release = {
        "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)",
        "NAME": "Debian GNU/Linux",
        "VERSION_ID": "12",
        "VERSION": "12 (bookworm)",
        "VERSION_CODENAME": "bookworm",
        "ID": "debian",
    }
    sources = (
        "deb http://deb.debian.org/debian bookworm main\n"
        "deb http://deb.debian.org/debian-security bookworm-security main\n"
    )
    # A Debian cloud image: no gpg, no ufw, no iptables (nftables only), timesyncd for time.
    return Distro(
        key="debian-12",
        family="debian",
        os_release=release,
        cgroup=2,
        packages=(*_DEB, "systemd-timesyncd"),
        units={
            "ssh.service": (True, True),
            "cron.service": (True, True),
            "systemd-timesyncd.service": (True, True),
        },
        extra_files={"/etc/apt/sources.list": sources, "/etc/debian_version": "12.12\n"},
    )


def _el_version_text(pretty: str, version: str) -> str:
    """ "7 (Core)" / "9.4 (Blue Onyx)": the codename in parentheses, as os-release writes it."""
    return f"{version} {pretty[pretty.index('(') :]}"


def _el(os_id: str, name: str, version: str, pretty: str, cgroup: int, dnf: bool) -> Distro:
    release = {
        "NAME": name,
        "VERSION": _el_version_text(pretty, version),
        "ID": os_id,
        "ID_LIKE": "rhel centos fedora" if os_id != "centos" else "rhel fedora",
        "VERSION_ID": version,
        "PRETTY_NAME": pretty,
        "PLATFORM_ID": f"platform:el{version.split('.')[0]}",
    }
    major = version.split(".")[0]
    base = (
        (
            "[baseos]\nname=BaseOS\nbaseurl=http://dl.rockylinux.org/pub/rocky/$releasever/BaseOS/"
            "$basearch/os/\nenabled=1\ngpgcheck=1\n"
        )
        if dnf
        else (
            "[base]\nname=CentOS-$releasever - Base\nbaseurl=http://vault.centos.org/7.9.2009/os/$basearch/\n"
            "enabled=1\ngpgcheck=1\n"
        )
    )
    return Distro(
        key=f"{os_id}-{major}",
        family="el",
        os_release=release,
        cgroup=cgroup,
        packages=(*_EL, "dnf", "yum") if dnf else (*_EL, "yum", "yum-utils"),
        units=dict(_EL_UNITS),
        extra_files={
            "/etc/redhat-release": pretty + "\n",
            f"/etc/yum.repos.d/{'rocky' if dnf else 'CentOS-Base'}.repo": base,
            "/etc/selinux/config": "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
        },
    )


DISTROS: dict[str, Distro] = {
    d.key: d
    for d in (
        _el("centos", "CentOS Linux", "7", "CentOS Linux release 7.9.2009 (Core)", 1, dnf=False),
        _el("rocky", "Rocky Linux", "8.10", "Rocky Linux 8.10 (Green Obsidian)", 1, dnf=True),
        _el("rocky", "Rocky Linux", "9.4", "Rocky Linux 9.4 (Blue Onyx)", 2, dnf=True),
        _ubuntu("20.04", "focal", 1),
        _ubuntu("22.04", "jammy", 2),
        _ubuntu("24.04", "noble", 2),
        _debian12(),
    )
}


def os_release_text(distro: Distro) -> str:
    return "".join(f'{k}="{v}"\n' for k, v in distro.os_release.items())


def swap_line(distro: Distro) -> tuple[str, str]:
    """(fstab line, /proc/swaps line): every node starts with swap on, like a default install."""
    if distro.family == "el":
        return (
            "/dev/mapper/cl-swap     none    swap    defaults        0 0",
            "/dev/dm-1                               partition\t2097148\t\t0\t\t-2",
        )
    return (
        "/swap.img\tnone\tswap\tsw\t0\t0",
        "/swap.img                               file\t\t2097148\t\t0\t\t-2",
    )
