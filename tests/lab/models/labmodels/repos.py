"""Package repositories as the real mirrors lay them out, and what each one carries.

Layouts follow the facts sheet (kubeadm-facts.md section 1), written out here independently of
k8stui's own catalog so a wrong URL in a recipe fails in the lab as it would on a real machine.
Only the list of patch releases per minor (catalog.json) is taken from k8stui.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import state

PKGS_BASES = {
    "official": "https://pkgs.k8s.io/core:/stable:",
    "aliyun": "https://mirrors.aliyun.com/kubernetes-new/core/stable",
    "ustc": "https://mirrors.ustc.edu.cn/kubernetes/core:/stable:",
    "tuna": "https://mirrors.tuna.tsinghua.edu.cn/kubernetes/core:/stable:",
}
KEY_SERVING = ("official", "aliyun")  # USTC/TUNA: take the key from pkgs.k8s.io (unverified there)
LEGACY = "https://mirrors.aliyun.com/kubernetes"
LEGACY_MAX_MINOR = 28
PKGS_MIN_MINOR = 24
EXPIRED_KEY_MAX_MINOR = 27  # keys fetched from <= v1.27 URLs expired in 2024-11
DOCKER_BASES = (
    "https://download.docker.com/linux",
    "https://mirrors.aliyun.com/docker-ce/linux",
    "https://mirrors.ustc.edu.cn/docker-ce/linux",
    "https://mirrors.tuna.tsinghua.edu.cn/docker-ce/linux",
)
DISTRO_HOSTS = (
    "archive.ubuntu.com",
    "security.ubuntu.com",
    "deb.debian.org",
    "security.debian.org",
    "vault.centos.org",
    "mirror.centos.org",
    "dl.rockylinux.org",
    "mirrors.rockylinux.org",
    "mirrors.aliyun.com",
    "mirrors.tuna.tsinghua.edu.cn",
    "mirrors.ustc.edu.cn",
    "mirrorlist.centos.org",
)
DISTRO_PATHS = (
    "/ubuntu",
    "/debian",
    "/debian-security",
    "/centos",
    "/rocky",
    "/rockylinux",
    "/pub/rocky",
    "/7.9.2009",
    "/",
)
CNI = {
    24: "1.1.1",
    25: "1.1.1",
    26: "1.2.0",
    27: "1.2.0",
    28: "1.2.0",
    29: "1.3.0",
    30: "1.4.0",
    31: "1.5.1",
    32: "1.6.0",
    33: "1.6.0",
    34: "1.7.1",
    35: "1.7.1",
    36: "1.8.0",
    37: "1.8.0",
}


@dataclass
class Repo:
    """One configured repository after `update`/`makecache`: what it carries and who signs it."""

    id: str
    url: str
    kind: str  # distro | kubernetes | legacy | docker
    signer: str = ""  # key id that signs it ("" for distro repos, trusted by the system)
    packages: dict[str, list[str]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()


def armored(key_id: str) -> str:
    return (
        f"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nk8slab-key:{key_id}\n-----END PGP PUBLIC KEY BLOCK-----\n"
    )


def keys_in(data: bytes) -> list[tuple[str, bool]]:
    """Every key in a keyring file (apt-key appends to /etc/apt/trusted.gpg), with is_armored."""
    armored_file = data.lstrip().startswith(b"-----BEGIN PGP")
    return [(m.group(1).decode(), armored_file) for m in re.finditer(rb"k8slab-key:([a-z0-9-]+)", data)]


def key_in(data: bytes) -> tuple[str, bool] | None:
    """(key id, is_armored) of a key file written by the curl/gpg models, or None."""
    match = re.search(rb"k8slab-key:([a-z0-9-]+)", data)
    if not match:
        return None
    return match.group(1).decode(), data.startswith(b"-----BEGIN PGP")


def _minors() -> dict[int, int]:
    return {int(k): v for k, v in state.load("catalog.json", {}).get("latest_patch", {}).items()}


def fetch(url: str) -> str | None:
    """What an https GET of `url` returns in the lab (keys, repo files), None when unreachable."""
    for mirror in KEY_SERVING:
        m = re.fullmatch(
            re.escape(PKGS_BASES[mirror]) + r"/v1\.(\d+)/(deb/Release\.key|rpm/repodata/repomd\.xml\.key)",
            url,
        )
        if m and PKGS_MIN_MINOR <= int(m.group(1)) <= max(_minors(), default=0):
            return armored("k8s-expired" if int(m.group(1)) <= EXPIRED_KEY_MAX_MINOR else "k8s")
    if url in (
        f"{LEGACY}/apt/doc/apt-key.gpg",
        f"{LEGACY}/yum/doc/yum-key.gpg",
        f"{LEGACY}/yum/doc/rpm-package-key.gpg",
    ):
        return armored("aliyun-legacy")
    for base in DOCKER_BASES:
        m = re.fullmatch(re.escape(base) + r"/(ubuntu|debian|centos|rhel)/(gpg|docker-ce\.repo)", url)
        if m and m.group(2) == "gpg":
            return armored("docker")
        if m:
            return docker_repo_file(base, m.group(1))
    return None


def docker_repo_file(base: str, distro: str) -> str:
    return (
        f"[docker-ce-stable]\nname=Docker CE Stable - $basearch\n"
        f"baseurl={base}/{distro}/$releasever/$basearch/stable\nenabled=1\ngpgcheck=1\n"
        f"gpgkey={base}/{distro}/gpg\n"
    )


def kube_versions(minor: int, fmt: str, legacy: bool) -> dict[str, list[str]]:
    """kubelet/kubeadm/kubectl/cri-tools/kubernetes-cni versions one minor's repository carries."""
    latest = _minors().get(minor)
    if latest is None:
        return {}
    rev = ("-00" if fmt == "deb" else "-0") if legacy else ("-1.1" if fmt == "deb" else "-150500.1.1")
    core = [f"1.{minor}.{p}{rev}" for p in range(latest + 1)]
    out = {name: list(core) for name in ("kubelet", "kubeadm", "kubectl")}
    out["cri-tools"] = ["1.26.0" + rev] if legacy or minor < 28 else [f"1.{minor}.0{rev}"]
    out["kubernetes-cni"] = ["1.2.0" + rev] if legacy else [CNI.get(minor, "1.2.0") + rev]
    return out


def legacy_versions(fmt: str) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for minor in sorted(_minors()):
        if minor <= LEGACY_MAX_MINOR:
            for name, versions in kube_versions(minor, fmt, legacy=True).items():
                merged.setdefault(name, [])
                merged[name] += [v for v in versions if v not in merged[name]]
    return merged


def docker_versions(fmt: str) -> dict[str, list[str]]:
    node = state.node()
    os_id, ver, code, el = (
        node.get("id", ""),
        node.get("version_id", ""),
        node.get("codename", ""),
        node.get("el", 0),
    )
    if fmt == "deb":
        ctr = ["1.6.33-1", "1.7.28-1", "2.1.5-1"]
        engine = [f"5:20.10.24~3-0~{os_id}-{code}", f"5:28.5.1-1~{os_id}.{ver}~{code}"]
    elif el == 7:  # Docker froze its EL7 repository with EL7's end of life: no containerd 2.x there
        ctr = ["1.6.33-3.1.el7"]
        engine = ["3:20.10.24-3.el7", "3:26.1.4-1.el7"]
    else:
        ctr = [f"1.6.33-3.1.el{el}", f"1.7.28-1.el{el}", f"2.1.5-1.el{el}"]
        engine = [f"3:20.10.24-3.el{el}", f"3:28.5.1-1.el{el}"]
    return {
        "containerd.io": ctr,
        "docker-ce": engine,
        "docker-ce-cli": [e.replace("3:", "1:", 1) if fmt == "rpm" else e for e in engine],
    }


def kube_repo(url: str, fmt: str) -> tuple[str, int] | None:
    """(mirror, minor) when `url` is a pkgs.k8s.io-style repository root for `fmt` (deb | rpm)."""
    for mirror, base in PKGS_BASES.items():
        m = re.fullmatch(re.escape(base) + rf"/v1\.(\d+)/{fmt}/", url)
        if m:
            return mirror, int(m.group(1))
    return None


def is_distro_url(url: str) -> bool:
    m = re.fullmatch(r"https?://([^/]+)(/.*)?", url)
    if not m or m.group(1) not in DISTRO_HOSTS:
        return False
    rest = m.group(2) or "/"
    return "kubernetes" not in rest and "docker-ce" not in rest and rest.startswith(DISTRO_PATHS)
