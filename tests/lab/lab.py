"""The lab: real OpenSSH nodes in Linux namespaces on one bridge, with strict models of system tools.

    with Lab(["centos-7", "ubuntu-22.04"]) as lab:
        lab.ssh(lab.nodes[0], "cat /etc/os-release")
        spec = lab.spec()            # a k8stui ClusterSpec for these nodes

Needs root, iproute2, util-linux (unshare, nsenter), openssh-server and a merged-/usr host.
See README.md for the node layout and the models.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import netns, rootfs
from .cleanup import LAB_ROOT, MAX_SLOTS, clean_stale, destroy_slot
from .distros import DISTROS, Distro

BOOT = Path(__file__).parent / "boot.sh"
OPS2_PASSWORD = "k8slab-ops2"  # ops2's sudo password (the lab is throwaway; nothing else uses it)
SUDO_PASSWORD_ENV = "K8SLAB_OPS2_SUDO_PASSWORD"  # set by Lab.spec(user="ops2")
READY_TIMEOUT = 20.0
TOOLS = ("ip", "unshare", "nsenter", "ssh", "ssh-keygen", "/usr/sbin/sshd", "openssl", "useradd", "sudo")


@dataclass
class LabNode:
    name: str
    hostname: str
    distro: Distro
    ip: str
    netns: str
    directory: Path
    host_key: str = ""
    pid: int = 0  # the `unshare` process holding the node's namespaces
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def state_dir(self) -> str:
        """The models' state inside the node (also readable on the host through `upper`)."""
        return "/var/lib/lab"

    def init_pid(self) -> int:
        """Host pid of the node's PID 1 (sshd)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return int(children[0])


def missing_requirements() -> str | None:
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "the lab needs root (network, mount and PID namespaces)"
    missing = [t for t in TOOLS if not (shutil.which(t) or os.path.exists(t))]
    if missing:
        return f"the lab needs these tools: {', '.join(missing)}"
    if not all(os.path.islink(p) for p in ("/bin", "/sbin", "/lib")):
        return "the lab needs a merged-/usr host (/bin, /sbin, /lib as links into /usr)"
    if not os.path.exists("/usr/bin/python3"):
        return "the lab's models need /usr/bin/python3"
    return None


class Lab:
    def __init__(
        self,
        distros: list[str],
        *,
        duplicate_uuid: bool = False,
        names: list[str] | None = None,
        persistent: bool = False,
    ) -> None:
        unknown = [d for d in distros if d not in DISTROS]
        if unknown:
            raise ValueError(f"unknown distro(s) {unknown}; known: {', '.join(DISTROS)}")
        self.distros = distros
        self.names = names or [f"lab{i + 1}" for i in range(len(distros))]
        self.duplicate_uuid = duplicate_uuid
        # A non-persistent lab's nodes die with the thread that started them (a crashed test run leaves
        # no running node behind); `python -m tests.lab up` starts persistent ones.
        self.persistent = persistent
        self.slot = -1
        self.directory = Path()
        self.nodes: list[LabNode] = []
        self._lock: int | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> Lab:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def up(self) -> Lab:
        problem = missing_requirements()
        if problem:
            raise RuntimeError(problem)
        clean_stale()
        self._take_slot()
        try:
            self._create()
        except BaseException:
            self.down()
            raise
        return self

    def _take_slot(self) -> None:
        LAB_ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
        for slot in range(MAX_SLOTS):
            fd = os.open(LAB_ROOT / f"slot{slot}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            destroy_slot(slot)  # leftovers of a crashed lab in this slot
            if netns.subnet_in_use(slot):  # someone else's network (a VPN, a docker bridge): next slot
                os.close(fd)
                continue
            self.slot, self._lock = slot, fd
            self.directory = LAB_ROOT / f"slot{slot}"
            self.directory.mkdir(mode=0o700)
            # The nodes' layers live in RAM: fast to write, and gone with one umount (deleting files on a
            # disk mounted with `discard` takes seconds).
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=700,size=4g", f"k8slab-slot{slot}",
                            str(self.directory)], check=True, timeout=20)
            return
        raise RuntimeError(f"all {MAX_SLOTS} lab slots are busy")

    def _create(self) -> None:
        key = self.directory / "id_ed25519"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "k8slab-jump", "-f", str(key)],
            check=True,
            timeout=30,
        )
        (self.directory / "ops2.hash").write_text(_hash(OPS2_PASSWORD))
        shared_uuid = str(uuid.uuid4())
        for i, (name, distro) in enumerate(zip(self.names, self.distros, strict=True)):
            self.nodes.append(
                LabNode(
                    name,
                    name,
                    DISTROS[distro],
                    netns.node_ip(self.slot, i),
                    netns.node_ns(self.slot, name),
                    self.directory / "nodes" / name,
                )
            )
        catalog = _catalog()
        with ThreadPoolExecutor(max_workers=8) as pool:
            keys = list(pool.map(lambda n: self._prepare(n, catalog, shared_uuid), self.nodes))
        for node, host_key in zip(self.nodes, keys, strict=True):
            node.host_key = host_key
        self.known_hosts.write_text("".join(f"{n.ip} {n.host_key}\n" for n in self.nodes))
        netns.create_bridge(self.slot)
        for i, node in enumerate(self.nodes):
            netns.create_node_net(self.slot, i, node.name)
        for node in self.nodes:
            self._start(node)
        self._record()
        for node in self.nodes:
            self._wait_ready(node)

    def _prepare(self, node: LabNode, catalog: dict[str, Any], shared_uuid: str) -> str:
        files = rootfs.NodeFiles(
            node.name,
            node.hostname,
            node.ip,
            node.distro,
            node.directory,
            self.public_key,
            (self.directory / "ops2.hash").read_text(),
            shared_uuid if self.duplicate_uuid else str(uuid.uuid4()),
        )
        host_key = rootfs.prepare(files, catalog)
        return host_key

    def _start(self, node: LabNode) -> None:
        log = open(node.directory / "boot.log", "wb")  # noqa: SIM115 - the node process owns it
        argv = [
            "nsenter",
            f"--net=/run/netns/{node.netns}",
            "--",
            "unshare",
            "--mount",
            "--uts",
            "--pid",
            "--fork",
            "--kill-child=SIGKILL",
            "--propagation",
            "private",
            "--",
            "/bin/bash",
            str(BOOT),
            str(node.directory),
            node.hostname,
            str(node.distro.cgroup),
        ]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "HOME": "/root"}
        assert self._lock is not None
        # The slot lock fd is inherited: the lock stays held exactly as long as a node lives.
        node.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
            pass_fds=(self._lock,),
            preexec_fn=None if self.persistent else _die_with_parent,
        )
        node.pid = node.process.pid
        log.close()

    def _wait_ready(self, node: LabNode) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if node.process and node.process.poll() is not None:
                raise RuntimeError(f"node {node.name} did not boot:\n{self.boot_log(node)}")
            try:
                with socket.create_connection((node.ip, 22), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(
            f"node {node.name}: sshd not reachable after {READY_TIMEOUT}s:\n{self.boot_log(node)}"
        )

    def boot_log(self, node: LabNode) -> str:
        return (node.directory / "boot.log").read_text(errors="replace")

    def _record(self) -> None:
        data = {"slot": self.slot, "pids": [n.pid for n in self.nodes], "nodes": [n.name for n in self.nodes],
                "persistent": self.persistent, "owner": os.getpid()}
        (self.directory / "lab.json").write_text(json.dumps(data))

    def down(self) -> None:
        if self.slot < 0:
            return
        for node in self.nodes:
            _kill_node(node)
        for node in self.nodes:
            if node.process:
                try:
                    node.process.wait(timeout=10)  # `unshare` reaps the node's PID 1, then exits
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(timeout=10)
        destroy_slot(self.slot)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
        self.slot = -1

    # --- access -----------------------------------------------------------------------------

    @property
    def key(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def public_key(self) -> str:
        return (self.directory / "id_ed25519.pub").read_text().strip()

    @property
    def known_hosts(self) -> Path:
        return self.directory / "known_hosts"

    def node(self, name: str) -> LabNode:
        return next(n for n in self.nodes if n.name == name)

    def ssh_argv(self, node: LabNode, user: str = "root") -> list[str]:
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            str(self.key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=ERROR",
            f"{user}@{node.ip}",
        ]

    def ssh(
        self, node: LabNode, command: str, user: str = "root", input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` on the node over real SSH (never raises on a non-zero exit)."""
        return subprocess.run(
            [*self.ssh_argv(node, user), "--", command],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def run(self, node: LabNode, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `command` as root inside the node's namespaces without SSH (fast, for tests)."""
        argv = [
            "nsenter",
            "-t",
            str(node.init_pid()),
            "--mount",
            "--uts",
            "--net",
            "--pid",
            "--",
            "/bin/bash",
            "-c",
            f"export PATH={rootfs.LAB_PATH} LC_ALL=C HOME=/root; cd /root; {command}",
        ]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def spec(
        self, *, user: str = "root", control_planes: int = 1, with_os: bool = False, **fields: Any
    ) -> Any:
        """A k8stui ClusterSpec for the lab: first `control_planes` nodes are control planes.

        With user="ops2" the spec names SUDO_PASSWORD_ENV, which holds ops2's sudo password."""
        from k8stui.model.cluster import ClusterSpec

        if user == "ops2":
            os.environ.setdefault(SUDO_PASSWORD_ENV, OPS2_PASSWORD)

        nodes = [
            {
                "name": n.name,
                "address": n.ip,
                "role": "control-plane" if i < control_planes else "worker",
                **({"os": n.distro.key} if with_os else {}),
            }
            for i, n in enumerate(self.nodes)
        ]
        ssh = {
            "user": user,
            "port": 22,
            "identityFile": str(self.key),
            "knownHosts": str(self.known_hosts),
            "hostKeyPolicy": "strict",
            **({"sudoPasswordEnv": SUDO_PASSWORD_ENV} if user == "ops2" else {}),
            **fields.pop("ssh", {}),
        }
        return ClusterSpec.model_validate({"name": "lab", "nodes": nodes, "ssh": ssh, **fields})


def _kill_node(node: LabNode) -> None:
    """SIGKILL the node's PID 1 (the kernel then kills its whole PID namespace); `unshare` reaps it."""
    if node.process is None or node.process.poll() is not None:
        return
    try:
        os.kill(node.init_pid(), signal.SIGKILL)
    except (OSError, IndexError, ValueError):
        node.process.kill()


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _hash(password: str) -> str:
    return subprocess.run(
        ["openssl", "passwd", "-6", "-salt", "k8slabsalt", password],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()


def _catalog() -> dict[str, Any]:
    """The list of patch releases per minor, from k8stui's own catalog (the only data the models share)."""
    from k8stui.model import versions

    # image_versions: (pause, etcd, coredns) per minor, for the kubeadm model's `config images list`.
    return {"latest_patch": versions.LATEST_PATCH, "image_versions": versions.IMAGE_VERSIONS}
