"""The version and mirror catalog: every version-dependent decision, one function each.

The facts come from `kubeadm-facts.md` (shared reference). The classic field failures (kubeadm API
version, repo layout per mirror, pause image, containerd key names) are each decided here and
nowhere else, so a test can pin each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import total_ordering
from typing import Literal

# Latest patch k8stui knows per minor ("1.34" in a cluster file means this patch).
LATEST_PATCH: dict[int, int] = {
    19: 16, 20: 15, 21: 14, 22: 17, 23: 17, 24: 17, 25: 16, 26: 15, 27: 16, 28: 15,
    29: 15, 30: 14, 31: 14, 32: 11, 33: 7, 34: 6, 35: 3, 36: 2, 37: 1,
}
MIN_MINOR, MAX_MINOR = min(LATEST_PATCH), max(LATEST_PATCH)
SUPPORTED_MINORS = (35, 36, 37)  # upstream-supported in late 2026

# (pause, etcd, coredns) per minor, as `kubeadm config images list` prints them. Recipes still ask
# kubeadm on the node for the pause image; this table is the offline fallback and the lab's model.
IMAGE_VERSIONS: dict[int, tuple[str, str, str]] = {
    19: ("3.2", "3.4.13-0", "1.7.0"),
    20: ("3.2", "3.4.13-0", "1.7.0"),
    21: ("3.4.1", "3.4.13-0", "v1.8.0"),
    22: ("3.5", "3.5.0-0", "v1.8.4"),
    23: ("3.6", "3.5.1-0", "v1.8.6"),
    24: ("3.7", "3.5.3-0", "v1.8.6"),
    25: ("3.8", "3.5.4-0", "v1.9.3"),
    26: ("3.9", "3.5.6-0", "v1.9.3"),
    27: ("3.9", "3.5.7-0", "v1.10.1"),
    28: ("3.9", "3.5.9-0", "v1.10.1"),
    29: ("3.9", "3.5.10-0", "v1.11.1"),
    30: ("3.9", "3.5.12-0", "v1.11.1"),
    31: ("3.10", "3.5.15-0", "v1.11.3"),
    32: ("3.10", "3.5.16-0", "v1.11.3"),
    33: ("3.10", "3.5.21-0", "v1.12.0"),
    34: ("3.10.1", "3.6.4-0", "v1.12.1"),
    35: ("3.10.1", "3.6.5-0", "v1.13.1"),
    36: ("3.10.1", "3.6.5-0", "v1.13.1"),
    37: ("3.10.1", "3.6.6-0", "v1.13.1"),
}

OFFICIAL_PKGS = "https://pkgs.k8s.io/core:/stable:"
MIRROR_BASES: dict[str, str] = {
    "official": OFFICIAL_PKGS,
    "aliyun": "https://mirrors.aliyun.com/kubernetes-new/core/stable",
    "ustc": "https://mirrors.ustc.edu.cn/kubernetes/core:/stable:",
    "tuna": "https://mirrors.tuna.tsinghua.edu.cn/kubernetes/core:/stable:",
}
ALIYUN_LEGACY = "https://mirrors.aliyun.com/kubernetes"
ALIYUN_LEGACY_MAX_MINOR = 28
PKGS_MIN_MINOR = 24  # pkgs.k8s.io-style repos carry packages from v1.24.0
ALIYUN_VERIFIED_MAX_MINOR = 35  # seen up to v1.35 [3rd]; newer minors are UNVERIFIED
DOCKER_CE_BASES: dict[str, str] = {
    "official": "https://download.docker.com/linux",
    "aliyun": "https://mirrors.aliyun.com/docker-ce/linux",
    "aliyun-legacy": "https://mirrors.aliyun.com/docker-ce/linux",
    "ustc": "https://mirrors.ustc.edu.cn/docker-ce/linux",
    "tuna": "https://mirrors.tuna.tsinghua.edu.cn/docker-ce/linux",
}
CONTAINERD_SOCKET = "unix:///var/run/containerd/containerd.sock"
DOCKER_SOCKET = "/var/run/dockershim.sock"


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        """`1.34.6` as written, `1.34` as the latest known patch of that minor."""
        parts = [int(p) for p in text.strip().removeprefix("v").split(".")]
        if len(parts) == 2:
            parts.append(LATEST_PATCH.get(parts[1], 0))
        major, minor, patch = parts
        return cls(major, minor, patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)

    @property
    def v(self) -> str:
        return f"v{self}"

    @property
    def minor_str(self) -> str:
        return f"v{self.major}.{self.minor}"

    def at_least(self, minor: int) -> bool:
        return (self.major, self.minor) >= (1, minor)


def known(version: Version) -> bool:
    return version.major == 1 and MIN_MINOR <= version.minor <= MAX_MINOR


SupportLevel = Literal["supported", "end-of-life", "legacy"]


def support_level(version: Version) -> SupportLevel:
    """supported upstream / past end of life / legacy docker era (rendered, not supported upstream)."""
    if version.minor in SUPPORTED_MINORS:
        return "supported"
    return "legacy" if version.minor < 24 else "end-of-life"


def kubeadm_api_version(version: Version) -> str:
    """v1beta2 <= 1.21, v1beta3 for 1.22-1.30, v1beta4 >= 1.31 (v1beta3 is gone in 1.37)."""
    if version.minor <= 21:
        return "kubeadm.k8s.io/v1beta2"
    if version.minor <= 30:
        return "kubeadm.k8s.io/v1beta3"
    return "kubeadm.k8s.io/v1beta4"


def list_style_extra_args(version: Version) -> bool:
    """v1beta4 turns every extraArgs map into a list of {name, value}."""
    return kubeadm_api_version(version).endswith("v1beta4")


def mirror_problem(mirror: str, version: Version) -> str | None:
    """Why `mirror` cannot serve `version`, or None when it can."""
    if mirror == "aliyun-legacy":
        if version.minor > ALIYUN_LEGACY_MAX_MINOR:
            return (f"the aliyun-legacy mirror stops at 1.{ALIYUN_LEGACY_MAX_MINOR}; "
                    f"use packageMirror: aliyun for {version.minor_str}")
        return None
    if version.minor < PKGS_MIN_MINOR:
        return (f"{mirror} repositories (pkgs.k8s.io layout) start at 1.{PKGS_MIN_MINOR}; "
                f"use packageMirror: aliyun-legacy for {version}")
    return None


def mirror_warning(mirror: str, version: Version) -> str | None:
    if mirror == "aliyun" and version.minor > ALIYUN_VERIFIED_MAX_MINOR:
        return (f"the aliyun mirror is confirmed up to 1.{ALIYUN_VERIFIED_MAX_MINOR}; "
                f"{version.minor_str} is unverified")
    return None


def runtime_problem(runtime: str, version: Version) -> str | None:
    if runtime == "docker" and version.minor >= 24:
        return ("docker was removed as a runtime in 1.24 (dockershim); "
                "use runtime: containerd, or a version below 1.24")
    return None


def needs_containerd_2(version: Version) -> bool:
    """1.35 is the last release supporting containerd 1.x."""
    return version.minor >= 36


def proxy_mode_problem(mode: str, version: Version) -> str | None:
    if mode == "nftables" and version.minor < 33:
        return "nftables kube-proxy mode is GA from 1.33; use iptables or ipvs, or a newer version"
    return None


def proxy_mode_warning(mode: str, version: Version) -> str | None:
    if mode == "ipvs" and version.minor >= 35:
        return "ipvs kube-proxy mode is deprecated since 1.35; consider nftables"
    return None


def cgroup_v1_refused(version: Version) -> bool:
    """From 1.35 the kubelet refuses cgroup v1 hosts unless failCgroupV1: false."""
    return version.minor >= 35


@dataclass(frozen=True)
class AptRepo:
    source_line: str  # the line for /etc/apt/sources.list.d/kubernetes.list (without signed-by)
    key_url: str
    pin: str  # `apt-get install kubelet=<pin>`


@dataclass(frozen=True)
class YumRepo:
    baseurl: str
    gpgkey: str
    repo_gpgcheck: bool
    pin: str  # `yum install kubelet-<pin>`


def _pkgs_base(mirror: str) -> str:
    """A preset's base, or a custom URL base laid out like pkgs.k8s.io (`<base>/v1.XX/{deb,rpm}/`);
    a custom base also serves the key (`<base>/v1.XX/deb/Release.key`)."""
    return MIRROR_BASES.get(mirror, mirror)


def apt_repo(mirror: str, version: Version) -> AptRepo:
    if mirror == "aliyun-legacy":
        return AptRepo(
            source_line=f"{ALIYUN_LEGACY}/apt/ kubernetes-xenial main",
            key_url=f"{ALIYUN_LEGACY}/apt/doc/apt-key.gpg",
            pin=f"{version}-00",
        )
    base = f"{_pkgs_base(mirror)}/{version.minor_str}/deb/"
    return AptRepo(source_line=f"{base} /", key_url=_key_url(mirror, version, "deb"), pin=f"{version}-*")


def yum_repo(mirror: str, version: Version, arch: str = "x86_64") -> YumRepo:
    if mirror == "aliyun-legacy":
        return YumRepo(
            baseurl=f"{ALIYUN_LEGACY}/yum/repos/kubernetes-el7-{arch}/",
            gpgkey=f"{ALIYUN_LEGACY}/yum/doc/yum-key.gpg {ALIYUN_LEGACY}/yum/doc/rpm-package-key.gpg",
            repo_gpgcheck=True,
            pin=f"{version}",
        )
    base = f"{_pkgs_base(mirror)}/{version.minor_str}/rpm/"
    key = _key_url(mirror, version, "rpm")
    return YumRepo(baseurl=base, gpgkey=key, repo_gpgcheck=False, pin=f"{version}")


def _key_url(mirror: str, version: Version, kind: str) -> str:
    """USTC and TUNA mirror packages, not keys: their key comes from pkgs.k8s.io (one key for all)."""
    base = MIRROR_BASES["official"] if mirror in ("ustc", "tuna") else _pkgs_base(mirror)
    # Keys of minors <= 1.27 expired in 2024-11: take the key from a current minor's URL.
    key_minor = f"v1.{max(version.minor, 28)}"
    suffix = "Release.key" if kind == "deb" else "repodata/repomd.xml.key"
    return f"{base}/{key_minor}/{kind}/{suffix}"


def docker_ce_base(mirror: str) -> str:
    """Where containerd.io / docker-ce come from (a custom kube mirror falls back to Docker's own)."""
    return DOCKER_CE_BASES.get(mirror, DOCKER_CE_BASES["official"])


def default_registry(version: Version) -> str:
    return "registry.k8s.io" if version.minor >= 25 else "k8s.gcr.io"


def images(version: Version, repository: str | None = None) -> list[str]:
    """What `kubeadm config images list [--image-repository R]` prints for this version."""
    repo = repository or default_registry(version)
    pause, etcd, coredns = IMAGE_VERSIONS[version.minor]
    default = repo in ("registry.k8s.io", "k8s.gcr.io")
    # With a custom repository CoreDNS loses its coredns/ subpath; before 1.21 it never had one.
    coredns_path = "coredns/coredns" if default and version.minor >= 21 else "coredns"
    names = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"]
    return [f"{repo}/{n}:{version.v}" for n in names] + [
        f"{repo}/pause:{pause}",
        f"{repo}/etcd:{etcd}",
        f"{repo}/{coredns_path}:{coredns}",
    ]


def pause_image(version: Version, repository: str | None = None) -> str:
    return next(i for i in images(version, repository) if "/pause:" in i)


def cri_socket(runtime: str) -> str:
    return CONTAINERD_SOCKET if runtime == "containerd" else DOCKER_SOCKET


def control_plane_taint_keys(version: Version) -> list[str]:
    """The taints to remove for a single-node lab (`master` until 1.24, both in between)."""
    if version.minor < 20:
        return ["node-role.kubernetes.io/master"]
    if version.minor <= 24:
        return ["node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane"]
    return ["node-role.kubernetes.io/control-plane"]


def ttl_seconds(ttl: str) -> int:
    """`24h`, `1h30m`, `90s`, `0` -> seconds (0 = the token never expires)."""
    total, number = 0, ""
    for char in ttl:
        if char.isdigit():
            number += char
            continue
        total += int(number or 0) * {"h": 3600, "m": 60, "s": 1}[char]
        number = ""
    return total + int(number or 0)


def kubeadm_duration(ttl: str) -> str:
    """A tokenTTL as kubeadm's metav1.Duration text (`0` -> `0s`)."""
    return "0s" if ttl_seconds(ttl) == 0 else ttl


# --- container runtime ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerdKeys:
    """Where the two settings k8stui changes live in one containerd config layout.

    containerd 1.x writes `version = 2`, 2.x writes `version = 3`; a 1.x key on 2.x is silently
    ignored, so the key names must follow the layout the installed containerd generated.
    """

    config_version: int
    sandbox_section: str
    sandbox_key: str
    runc_options_section: str
    quote: str  # how `containerd config default` quotes strings in this layout


CONTAINERD_KEYS: dict[int, ContainerdKeys] = {
    2: ContainerdKeys(2, 'plugins."io.containerd.grpc.v1.cri"', "sandbox_image",
                      'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options', '"'),
    3: ContainerdKeys(3, "plugins.'io.containerd.cri.v1.images'.pinned_images", "sandbox",
                      "plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options", "'"),
}


def containerd_keys(config_version: int) -> ContainerdKeys:
    """The key names for a config `version = N` (2 = containerd 1.x, 3 = containerd 2.x)."""
    return CONTAINERD_KEYS[config_version]


def expected_containerd_config_version(version: Version) -> int:
    """The layout `render` shows: 2.x (version 3) when the Kubernetes version needs containerd 2."""
    return 3 if needs_containerd_2(version) else 2


CRICTL_TIMEOUT = 30
# dockershim (< 1.24) talks an old Docker API; Docker 29 refuses API versions that old. Install the
# newest 20.10 (the last series validated with 1.23) when the repository has it for the distro.
DOCKER_CE_SERIES = "20.10"

# --- China presets: images that are not on a Kubernetes image mirror ---------------------------
# registry.k8s.io, ghcr.io and docker.io are unreachable or slow from mainland China. These
# pull-through mirrors (DaoCloud's public ones) are UNVERIFIED defaults: edit them here.
CHINA_MIRRORS = ("aliyun", "aliyun-legacy", "ustc", "tuna")
CHINA_REGISTRY_HINTS = ("aliyuncs.com",)
GHCR_CHINA = "ghcr.m.daocloud.io"
DOCKER_HUB_CHINA = "docker.m.daocloud.io"
DOCKER_REGISTRY_MIRRORS_CHINA = ("https://docker.m.daocloud.io",)

FLANNEL_VERSION = "v0.26.7"
FLANNEL_CNI_PLUGIN_VERSION = "v1.6.2-flannel1"
CALICO_VERSION = "v3.29.3"
SMOKE_IMAGE = "nginx:1.27-alpine"


def is_china_preset(mirror: str, image_repository: str) -> bool:
    """A China package mirror or image repository was chosen: use the China image mirrors too."""
    return mirror in CHINA_MIRRORS or any(h in image_repository for h in CHINA_REGISTRY_HINTS)


def _ghcr(china: bool) -> str:
    return GHCR_CHINA if china else "ghcr.io"


def _docker_hub(china: bool) -> str:
    return DOCKER_HUB_CHINA if china else "docker.io"


def flannel_images(china: bool) -> tuple[str, str]:
    """(flanneld image, flannel CNI plugin image)."""
    base = f"{_ghcr(china)}/flannel-io"
    return f"{base}/flannel:{FLANNEL_VERSION}", f"{base}/flannel-cni-plugin:{FLANNEL_CNI_PLUGIN_VERSION}"


def calico_images(china: bool) -> dict[str, str]:
    base = f"{_docker_hub(china)}/calico"
    return {name: f"{base}/{name}:{CALICO_VERSION}" for name in ("cni", "node", "kube-controllers")}


def smoke_image(china: bool) -> str:
    """The smoke test's web server: nginx from Docker Hub (or its China mirror)."""
    return f"{_docker_hub(china)}/library/{SMOKE_IMAGE}"


def docker_registry_mirrors(china: bool) -> list[str]:
    return list(DOCKER_REGISTRY_MIRRORS_CHINA) if china else []
