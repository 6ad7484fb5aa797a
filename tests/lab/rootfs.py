"""Prepare a node's private layers on the host before it boots.

Each node gets overlay upper/work directories for /etc, /var, /usr, /opt, /root and /home. Files the
node must start with (os-release, sshd config and host key, sudoers, the models) are written straight
into the upper layers; directories that must not show the host's content are made opaque.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from .distros import Distro, os_release_text, swap_line

LAYERS = ("etc", "var", "usr", "opt", "root", "home")
MODELS = Path(__file__).parent / "models"
LAB_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Host state that must not leak into a node (kept out with opaque directories in the upper layer).
OPAQUE = (
    "/etc/apt/sources.list.d",
    "/etc/apt/keyrings",
    "/etc/apt/trusted.gpg.d",
    "/etc/sysctl.d",
    "/etc/modules-load.d",
    "/etc/systemd/system",
    "/etc/sudoers.d",
    "/etc/kubernetes",
    "/etc/containerd",
    "/etc/cni",
    "/etc/docker",
    "/etc/yum.repos.d",
    "/etc/chrony",
    "/var/lib/k8stui",
    "/var/lib/kubelet",
    "/var/lib/lab",
    "/usr/lib/modules",
    "/usr/local",  # a fresh machine's /usr/local is empty (this host's holds a docker CLI, for one)
)
OPS_UID = {"ops": 30001, "ops2": 30002}


@dataclass(frozen=True)
class NodeFiles:
    name: str
    hostname: str
    ip: str
    distro: Distro
    directory: Path
    authorized_key: str
    ops2_password_hash: str
    product_uuid: str


def upper(directory: Path, node_path: str) -> Path:
    """Where a node path lives in the node's upper layers (the top directory picks the layer)."""
    top, _, rest = node_path.lstrip("/").partition("/")
    return directory / "upper" / top / rest


def _write(directory: Path, node_path: str, text: str, mode: int = 0o644) -> None:
    target = upper(directory, node_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)


def _opaque(directory: Path, node_path: str) -> None:
    target = upper(directory, node_path)
    target.mkdir(parents=True, exist_ok=True)
    os.setxattr(target, "trusted.overlay.opaque", b"y")


def _whiteout(directory: Path, node_path: str) -> None:
    target = upper(directory, node_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        shutil.rmtree(target)
    os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(0, 0))


def host_key(directory: Path) -> str:
    """Generate the node's ed25519 host key into its /etc/ssh; returns the public key line."""
    key = upper(directory, "/etc/ssh/ssh_host_ed25519_key")
    key.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "k8slab-node", "-f", str(key)],
        check=True,
        timeout=30,
    )
    return key.with_suffix(".pub").read_text().strip()


def sshd_config(ip: str) -> str:
    return f"""# k8slab node sshd
ListenAddress {ip}:22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
UseDNS no
MaxStartups 200:30:400
MaxSessions 100
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp internal-sftp
SetEnv PATH={LAB_PATH}
PidFile /run/sshd.pid
"""


def prepare(files: NodeFiles, catalog: dict[str, object]) -> str:
    """Lay out the node's directory; returns its host public key line."""
    d, distro = files.directory, files.distro
    for layer in LAYERS:
        (d / "upper" / layer).mkdir(parents=True, exist_ok=True)
        (d / "work" / layer).mkdir(parents=True, exist_ok=True)
    for path in OPAQUE:
        _opaque(d, path)
    for name in ("bin", "sbin", "lib", "etc", "include", "share", "src"):
        upper(d, f"/usr/local/{name}").mkdir(parents=True, exist_ok=True)
    _system_files(files)
    _users(files)
    (d / "ops2.hash").write_text(files.ops2_password_hash)  # boot.sh's useradd reads it
    shutil.copytree(
        MODELS,
        upper(d, "/usr/local/lib/k8slab"),
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    _node_json(files, catalog)
    _write(
        d,
        "/usr/local/sbin/k8slab",
        f'#!/bin/sh\nexec {python_for_nodes()} -E -s -S /usr/local/lib/k8slab/model.py k8slab "$@"\n',
        0o755,
    )
    for name in ("ssh_host_rsa_key", "ssh_host_ecdsa_key", "ssh_host_rsa_key.pub", "ssh_host_ecdsa_key.pub"):
        if os.path.exists(f"/etc/ssh/{name}"):
            _whiteout(d, f"/etc/ssh/{name}")
    if distro.family == "el":
        for path in ("/etc/apt", "/etc/debian_version", "/etc/lsb-release"):
            if os.path.lexists(path):
                _whiteout(d, path)
    return host_key(d)


def _system_files(files: NodeFiles) -> None:
    d, distro = files.directory, files.distro
    fstab, _ = swap_line(distro)
    _write(d, "/etc/os-release", os_release_text(distro))
    _write(d, "/etc/hostname", files.hostname + "\n")
    _write(d, "/etc/hosts", f"127.0.0.1\tlocalhost\n{files.ip}\t{files.hostname}\n")
    _write(d, "/etc/fstab", f"UUID={uuid.uuid4()} /  ext4  defaults  0 1\n{fstab}\n")
    _write(d, "/etc/environment", f'PATH="{LAB_PATH}"\n')
    _write(d, "/etc/ssh/sshd_config", sshd_config(files.ip))
    _write(d, "/etc/sudoers.d/k8slab", "ops ALL=(ALL) NOPASSWD: ALL\nops2 ALL=(ALL) ALL\n", 0o440)
    for path, text in distro.extra_files.items():
        _write(d, path, text)


def _users(files: NodeFiles) -> None:
    d = files.directory
    _write(d, "/root/.ssh/authorized_keys", files.authorized_key + "\n", 0o600)
    for name in (".bashrc", ".profile"):
        if os.path.isfile(f"/etc/skel/{name}"):
            _write(d, f"/root/{name}", Path(f"/etc/skel/{name}").read_text())
    os.chmod(upper(d, "/root"), 0o700)
    os.chmod(upper(d, "/root/.ssh"), 0o700)
    for user, uid in OPS_UID.items():
        home = upper(d, f"/home/{user}")
        _write(d, f"/home/{user}/.ssh/authorized_keys", files.authorized_key + "\n", 0o600)
        for path in (home, home / ".ssh", home / ".ssh" / "authorized_keys"):
            os.chown(path, uid, uid)
        os.chmod(home / ".ssh", 0o700)
        os.chmod(home, 0o750)


def _node_json(files: NodeFiles, catalog: dict[str, object]) -> None:
    distro = files.distro
    release = distro.os_release
    _, swaps = swap_line(distro)
    dev, kind, size = swaps.split()[:3]
    node = {
        "name": files.name,
        "hostname": files.hostname,
        "ip": files.ip,
        "distro": distro.key,
        "family": distro.family,
        "id": release["ID"],
        "version_id": release["VERSION_ID"],
        "codename": release.get("VERSION_CODENAME", ""),
        "el": int(release["VERSION_ID"].split(".")[0]) if distro.family == "el" else 0,
        "cgroup": distro.cgroup,
        "packages": list(distro.packages),
        "units": {u: list(v) for u, v in distro.units.items()},
        "swap": [dev, kind, size],
        "swap_aliases": {swap_line(distro)[0].split()[0]: dev},
        "product_uuid": files.product_uuid,
        "product_name": "k8slab node",
        "sys_vendor": "k8slab",
        "python": python_for_nodes(),
        "extra_modules": ["nf_conntrack_ipv4"] if distro.key == "centos-7" else [],
    }
    _write(files.directory, "/var/lib/lab/node.json", json.dumps(node, indent=1))
    _write(files.directory, "/var/lib/lab/catalog.json", json.dumps(catalog, indent=1))


def python_for_nodes() -> str:
    """A system python3 the node can run (the models use the standard library only)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", sys.executable):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK) and not candidate.startswith("/root"):
            return candidate
    return "/usr/bin/python3"
