"""The image stores of the container runtimes and which images the (modelled) registries serve.

Kubernetes images exist only at the tags kubeadm of that version lists (catalog.json's image_versions,
taken from k8stui's catalog, and its patch list); k8s.gcr.io froze in 2023 (nothing newer than 1.26);
a custom repository holds CoreDNS as `coredns:<tag>` (no coredns/ subpath). Other images (CNI, nginx)
are served by the public registries and their China mirrors as long as they carry a tag.
"""

from __future__ import annotations

import re
from typing import Any

from . import state

STORE = "runtime/images.json"
KUBE_REPOS = (
    "registry.k8s.io",
    "k8s.gcr.io",
    "registry.aliyuncs.com/google_containers",
    "registry.cn-hangzhou.aliyuncs.com/google_containers",
)
PUBLIC = ("docker.io", "ghcr.io", "quay.io", "docker.m.daocloud.io", "ghcr.m.daocloud.io")
CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")


def catalog() -> dict[str, dict[int, list[str]]]:
    data = state.load("catalog.json", {})
    return {
        "patch": {int(k): v for k, v in data.get("latest_patch", {}).items()},
        "images": {int(k): v for k, v in data.get("image_versions", {}).items()},
    }


def kubeadm_list(version: str, repository: str | None) -> list[str]:
    """`kubeadm config images list` for v1.M.P, derived from the facts sheet's naming rules."""
    minor = int(version.lstrip("v").split(".")[1])
    pause, etcd, coredns = catalog()["images"][minor]
    repo = repository or ("registry.k8s.io" if minor >= 25 else "k8s.gcr.io")
    default = repo in ("registry.k8s.io", "k8s.gcr.io")
    dns = "coredns/coredns" if default and minor >= 21 else "coredns"
    return [f"{repo}/{n}:{version}" for n in CONTROL_PLANE] + [
        f"{repo}/pause:{pause}",
        f"{repo}/etcd:{etcd}",
        f"{repo}/{dns}:{coredns}",
    ]


def _kube_problem(repo: str, name: str, tag: str) -> str | None:
    cat = catalog()
    known = {v for versions in cat["images"].values() for v in versions}
    if name in CONTROL_PLANE:
        m = re.fullmatch(r"v1\.(\d+)\.(\d+)", tag)
        if not m or int(m.group(1)) not in cat["patch"] or int(m.group(2)) > cat["patch"][int(m.group(1))]:
            return "not found"
        if repo == "k8s.gcr.io" and int(m.group(1)) > 26:
            return "not found (k8s.gcr.io is frozen since 2023-04)"
        return None
    default = repo in ("registry.k8s.io", "k8s.gcr.io")
    if name == "coredns/coredns" and not default:
        return "not found (this repository has coredns:<tag>, without the coredns/ subpath)"
    if name in ("pause", "etcd", "coredns", "coredns/coredns") and tag in known:
        return None
    return "not found"


def pull_problem(image: str) -> str | None:
    """Why a pull of `image` fails, or None."""
    ref, _, tag = image.rpartition(":")
    if not ref or "/" in tag:
        return f'failed to resolve reference "{image}": no tag'
    for repo in KUBE_REPOS:
        if ref.startswith(repo + "/"):
            problem = _kube_problem(repo, ref[len(repo) + 1 :], tag)
            return f'failed to resolve reference "{image}": {image}: {problem}' if problem else None
    if ref.split("/", 1)[0] in PUBLIC and "/" in ref:
        return None
    host = ref.split("/", 1)[0]
    return (
        f'failed to resolve reference "{image}": failed to do request: Head "https://{host}/v2/": '
        f"dial tcp: lookup {host}: no such host"
    )


def normalize(image: str) -> str:
    """docker.io short names as the runtimes store them."""
    first = image.split("/", 1)[0]
    if "/" not in image:
        return f"docker.io/library/{image}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{image}"
    return image


def present(runtime: str) -> list[str]:
    return state.load(STORE, {}).get(runtime, [])


def has(runtime: str, image: str) -> bool:
    return normalize(image) in present(runtime)


def pull(runtime: str, image: str) -> None:
    problem = pull_problem(normalize(image))
    if problem:
        state.fail(problem, 1)
    with state.locked("images.lock"):
        store = state.load(STORE, {})
        images = store.setdefault(runtime, [])
        if normalize(image) not in images:
            images.append(normalize(image))
        state.save(STORE, store)


def pod_problem(obj: dict[str, Any]) -> str | None:
    """Why the pods of a Deployment or DaemonSet cannot pull their images (init containers too), or None."""
    pod = obj["spec"]["template"]["spec"]
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        problem = pull_problem(normalize(container["image"]))
        if problem:
            return problem
    return None
