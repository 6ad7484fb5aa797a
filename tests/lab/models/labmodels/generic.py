"""Binaries of installed packages that have no behaviour model yet.

Passive tools (iptables, ipset, ipvsadm, conntrack, socat, CNI plugins, ...) record each call in
STATE/calls.log and succeed: kubeadm's preflight only needs them present, `kubeadm reset` cleanups only
need them to run. Active tools (kubeadm, kubelet, kubectl, crictl, containerd, docker, ...) answer version
queries from the package database and fail loudly otherwise, until a real model exists in registry.py.
"""

from __future__ import annotations

import os

from . import catalog, pkgdb, state, vercmp

NOT_MODELED = 99

_VERSION_FORMS = {
    "kubeadm": lambda v: (
        f'kubeadm version: &version.Info{{Major:"1", Minor:"{v.split(".")[1]}", GitVersion:"v{v}"}}'
    ),
    "kubelet": lambda v: f"Kubernetes v{v}",
    "kubectl": lambda v: f"Client Version: v{v}\nKustomize Version: v5.7.1",
    "crictl": lambda v: f"crictl version v{v}",
    "containerd": lambda v: f"containerd containerd.io {v} k8slab",
    "ctr": lambda v: f"ctr containerd.io {v}",
    "runc": lambda v: f"runc version {v}",
    "docker": lambda v: f"Docker version {v}, build k8slab",
    "dockerd": lambda v: f"Docker version {v}, build k8slab",
}


def _is_version_query(args: list[str]) -> bool:
    head = args[:1]
    return (
        head in (["--version"], ["-v"], ["-V"], ["version"])
        or args == ["version", "--client"]
        or args[:3] == ["version", "-o", "short"]
        or args == ["version", "--client", "-o", "yaml"]
    )


def run(path: str, args: list[str]) -> int:
    tool = os.path.basename(path)
    db = pkgdb.installed()
    owner = catalog.owner_of(path, db)
    if owner is None:
        state.fail(f"bash: {path}: No such file or directory", 127)
    pkg = catalog.PACKAGES[owner]
    version = vercmp.upstream(db[owner]["version"])
    if pkg.passive:
        state.calls(tool, args)
        if _is_version_query(args):
            print(f"{tool} v{version}")
        return 0
    if _is_version_query(args):
        if args[:3] == ["version", "-o", "short"]:
            print(f"v{version}")
        else:
            print(_VERSION_FORMS.get(tool, lambda v: f"{tool} {v}")(version))
        return 0
    state.calls(tool, args)
    state.fail(
        f"k8slab: {tool} {' '.join(args)}: no behaviour model for this tool yet "
        f"(add one in tests/lab/models/labmodels/registry.py)",
        NOT_MODELED,
    )
