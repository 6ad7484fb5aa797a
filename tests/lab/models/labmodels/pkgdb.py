"""The installed-package database shared by the apt/dpkg and yum/dnf/rpm models.

Installing a package puts model wrappers at its binaries' real paths (so `command -v kubeadm` is false
before the install), writes its unit files and registers its units with the systemctl model.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from . import catalog, state, systemd

DB = "pkg/installed.json"

# What a package's maintainer scripts do to its services: (enable, start) per family.
POSTINST: dict[str, dict[str, tuple[bool, bool]]] = {
    "debian": {
        "containerd.service": (True, True),
        "docker.service": (True, True),
        "docker.socket": (True, True),
        "chrony.service": (True, True),
        "kubelet.service": (True, False),
        "ufw.service": (True, False),
        "systemd-timesyncd.service": (True, True),
    },
    "el": {"chronyd.service": (True, True), "firewalld.service": (True, True)},
}
PACKAGE_FILES = {
    ("chrony", "debian"): {
        "/etc/chrony/chrony.conf": "pool 2.debian.pool.ntp.org iburst\nsourcedir /etc/chrony/sources.d\n"
    },
    ("chrony", "el"): {
        "/etc/chrony.conf": "pool 2.centos.pool.ntp.org iburst\ndriftfile /var/lib/chrony/drift\n"
    },
    ("ufw", "debian"): {"/etc/ufw/ufw.conf": "ENABLED=no\nLOGLEVEL=low\n"},
    # Docker's containerd.io ships the CRI plugin disabled (facts sheet section 2).
    ("containerd.io", "debian"): {"/etc/containerd/config.toml": 'disabled_plugins = ["cri"]\n'},
    ("containerd.io", "el"): {"/etc/containerd/config.toml": 'disabled_plugins = ["cri"]\n'},
}

KUBEADM_DROPIN = """# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \
--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS \
$KUBELET_EXTRA_ARGS
"""


def installed() -> dict[str, dict[str, Any]]:
    return state.load(DB, {})


def save(db: dict[str, dict[str, Any]]) -> None:
    state.save(DB, db)


def wrapper() -> str:
    python = state.node().get("python", "/usr/bin/python3")
    return f'#!/bin/sh\nexec {python} -E -s -S {state.LIB}/model.py "$0" "$@"\n'


def place_bins(pkg: catalog.Pkg) -> None:
    for binary in pkg.bins:
        state.write(binary, wrapper(), 0o755)


def remove_bins(pkg: catalog.Pkg, keep: set[str]) -> None:
    for binary in pkg.bins:
        if binary not in keep:
            _unlink(state.root(binary))


def _unlink(target: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target)  # on the node's /usr overlay this leaves a whiteout: the host file stays hidden


def unit_name(unit: str, family: str) -> str:
    """chrony's unit is chronyd.service on EL."""
    return "chronyd.service" if unit == "chrony.service" and family == "el" else unit


def _unit_file(unit: str, pkg: catalog.Pkg) -> str:
    exe = pkg.bins[0] if pkg.bins else "/bin/true"
    if unit.endswith(".socket"):
        return (
            f"[Unit]\nDescription={unit}\n[Socket]\nListenStream=/run/docker.sock\n"
            "[Install]\nWantedBy=sockets.target\n"
        )
    return (
        f"[Unit]\nDescription={unit} (k8slab model of package {pkg.name})\n[Service]\nExecStart={exe}\n"
        "Restart=always\n[Install]\nWantedBy=multi-user.target\n"
    )


def add(name: str, version: str, origin: str, auto: bool, family: str, boot: bool = False) -> None:
    """Record the package as installed and run what its maintainer scripts would."""
    pkg = catalog.PACKAGES[name]
    db = installed()
    held = db.get(name, {}).get("held", False)
    db[name] = {"version": version, "origin": origin, "auto": auto, "held": held}
    save(db)
    place_bins(pkg)
    for unit in pkg.units:
        real = unit_name(unit, family)
        state.write(f"/usr/lib/systemd/system/{real}", _unit_file(real, pkg))
        enable, start = (False, False) if boot else POSTINST[family].get(real, (False, False))
        systemd.register(real, enable, start, owner=name)
    if name == "kubeadm":
        state.write("/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf", KUBEADM_DROPIN)
    for target, text in PACKAGE_FILES.get((name, family), {}).items():
        if not os.path.exists(state.root(target)):  # dpkg keeps an admin's changed conffile
            state.write(target, text)


def drop(name: str, family: str) -> None:
    pkg = catalog.PACKAGES[name]
    db = installed()
    db.pop(name, None)
    save(db)
    still = {b for other in db for b in catalog.PACKAGES[other].bins}
    remove_bins(pkg, still)
    for unit in pkg.units:
        real = unit_name(unit, family)
        if not any(unit in catalog.PACKAGES[o].units for o in db):
            systemd.unregister(real)
            _unlink(state.root(f"/usr/lib/systemd/system/{real}"))
    if name == "kubeadm":
        _unlink(state.root("/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"))


def deps(name: str, origin: str, family: str) -> list[str]:
    raw = catalog.LEGACY_DEPS.get(name) if origin == "legacy" else None
    return [catalog.dep_name(d, family) for d in (raw or catalog.PACKAGES[name].deps)]
