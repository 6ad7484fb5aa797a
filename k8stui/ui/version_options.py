"""Choices the Version & mirrors screen offers, derived from the version catalog (no Textual here)."""

from __future__ import annotations

from k8stui.model import versions
from k8stui.model.cluster import IMAGE_REPOSITORY_PRESETS, MIRROR_PRESETS, ClusterSpec
from k8stui.model.versions import Version

CUSTOM = "custom"
CHINA_MIRRORS = ("aliyun", "aliyun-legacy", "ustc", "tuna")
CHINA_TIME_SERVERS = ["ntp.aliyun.com", "ntp.ntsc.ac.cn"]
CHINA_MIRROR = "aliyun"
CHINA_REGISTRY = IMAGE_REPOSITORY_PRESETS["aliyun"]
LEVEL_LABEL = {"supported": "supported", "end-of-life": "end of life", "legacy": "legacy (docker era)"}
MIRROR_LABELS = {
    "official": "official (pkgs.k8s.io)",
    "aliyun": "aliyun (China)",
    "aliyun-legacy": "aliyun-legacy (China, <= 1.28)",
    "ustc": "ustc (China)",
    "tuna": "tuna (China)",
}
TIME_CHOICES = [
    ("distro default pool", "default"),
    ("China: ntp.aliyun.com, ntp.ntsc.ac.cn", "china"),
    ("leave time alone", "leave"),
    ("custom servers", CUSTOM),
]
FIREWALLS = [
    ("disable firewalld/ufw", "disable"),
    ("open the Kubernetes ports", "open-ports"),
    ("leave as is", "leave"),
]


def version_label(text: str) -> str:
    version = Version.parse(text)
    if not versions.known(version):
        return f"{text}  unknown"
    return f"{version}  {LEVEL_LABEL[versions.support_level(version)]}"


def version_choices(current: str) -> list[tuple[str, str]]:
    """Latest patch of every known minor, newest first; the file's own version kept when it differs."""
    values = [
        f"1.{minor}.{versions.LATEST_PATCH[minor]}" for minor in sorted(versions.LATEST_PATCH, reverse=True)
    ]
    if current not in values:
        values.insert(0, current)
    return [(version_label(v), v) for v in values]


def runtime_choices(version_text: str) -> list[tuple[str, str]]:
    """containerd always; docker only where dockershim still exists (< 1.24)."""
    choices = [("containerd", "containerd")]
    if versions.runtime_problem("docker", Version.parse(version_text)) is None:
        choices.append(("docker (dockershim)", "docker"))
    return choices


def mirror_choices() -> list[tuple[str, str]]:
    return [(MIRROR_LABELS[m], m) for m in MIRROR_PRESETS] + [("custom URL", CUSTOM)]


def mirror_choice(mirror: str) -> str:
    return mirror if mirror in MIRROR_PRESETS else CUSTOM


def registry_choices() -> list[tuple[str, str]]:
    return [(repo, repo) for repo in dict.fromkeys(IMAGE_REPOSITORY_PRESETS.values())] + [("custom", CUSTOM)]


def registry_choice(repository: str) -> str:
    return repository if repository in IMAGE_REPOSITORY_PRESETS.values() else CUSTOM


def china_time_hint(spec: ClusterSpec) -> str | None:
    """With a China mirror, the distro's default NTP pool is often unreachable: suggest the presets."""
    if spec.kubernetes.package_mirror in CHINA_MIRRORS and spec.host_prep.time_servers is None:
        return "with a China mirror, choose the China time servers (the default pool is often unreachable)"
    return None


def time_choice(servers: list[str] | None) -> str:
    if servers is None:
        return "default"
    if servers == []:
        return "leave"
    return "china" if servers == CHINA_TIME_SERVERS else CUSTOM


def time_servers(choice: str, custom_text: str) -> list[str] | None:
    """The hostPrep.timeServers value of a choice (custom: comma- or space-separated names)."""
    if choice == "default":
        return None
    if choice == "leave":
        return []
    if choice == "china":
        return list(CHINA_TIME_SERVERS)
    return [s for s in custom_text.replace(",", " ").split() if s]
