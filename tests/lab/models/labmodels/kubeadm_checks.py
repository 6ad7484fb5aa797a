"""kubeadm's preflight checks, worded like kubeadm's: privileges, swap, br_netfilter and ip_forward,
the container runtime behind criSocket (running, CRI on, systemd cgroups), the cgroup v1 rule from 1.35,
occupied files and ports, and the pause-image pitfall (the lab makes it fatal: pods never start)."""

from __future__ import annotations

import os
from typing import Any

from . import containerd, daemon, docker, kernel, state

CONTAINERD_SOCKETS = (
    "unix:///var/run/containerd/containerd.sock",
    "unix:///run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
)
DOCKERSHIM = ("/var/run/dockershim.sock", "unix:///var/run/dockershim.sock")


class Preflight:
    def __init__(self, ignored: list[str]) -> None:
        self.ignored = {i.lower() for i in ignored}
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, name: str, text: str) -> None:
        if "all" in self.ignored or name.lower() in self.ignored:
            self.warnings.append(f"[WARNING {name}]: {text}")
        else:
            self.errors.append(f"\t[ERROR {name}]: {text}")

    def finish(self) -> None:
        for line in self.warnings:
            print(f"\t{line}")
        if self.errors:
            state.fail(
                "error execution phase preflight: [preflight] Some fatal errors occurred:\n"
                + "\n".join(self.errors)
                + "\n[preflight] If you know what you are doing, you can make a check non-fatal with "
                "`--ignore-preflight-errors=...`\nTo see the stack trace of this error execute with "
                "--v=5 or higher",
                1,
            )


def _proc_file(check: Preflight, path: str) -> None:
    name = "FileContent-" + path.replace("/", "-")
    try:
        with open(state.root(path)) as f:
            value = f.read().strip()
    except FileNotFoundError:
        check.error(name, f"{path} does not exist")
        return
    if value != "1":
        check.error(name, f"{path} contents are not set to 1")


def system(check: Preflight, minor: int, kubelet: dict[str, Any], control_plane: bool) -> None:
    if os.geteuid() != 0:
        check.error("IsPrivilegedUser", "user is not running as root")
    if kernel.active_swaps() and kubelet.get("failSwapOn", True):
        check.error("Swap", "running with swap on is not supported. Please disable swap")
    _proc_file(check, "/proc/sys/net/bridge/bridge-nf-call-iptables")
    _proc_file(check, "/proc/sys/net/ipv4/ip_forward")
    if state.node().get("cgroup") == 1 and minor >= 35 and kubelet.get("failCgroupV1", True):
        check.error(
            "SystemVerification",
            "cgroups v1 support is in maintenance mode and the kubelet refuses "
            "cgroup v1 hosts from v1.35 unless its config sets failCgroupV1: false",
        )
    if control_plane and daemon.running("kube-apiserver"):
        check.error("Port-6443", "Port 6443 is in use")
    manifests = state.root("/etc/kubernetes/manifests")
    if control_plane and os.path.isdir(manifests) and os.listdir(manifests):
        check.error("DirAvailable--etc-kubernetes-manifests", "/etc/kubernetes/manifests is not empty")
    if os.path.exists(state.root("/etc/kubernetes/kubelet.conf")):
        check.error(
            "FileAvailable--etc-kubernetes-kubelet.conf", "/etc/kubernetes/kubelet.conf already exists"
        )


def cri_socket(socket: str | None, minor: int) -> str:
    """criSocket as given, or kubeadm's auto-detection: exactly one runtime socket must be there."""
    if socket:
        return socket
    found = [CONTAINERD_SOCKETS[0]] if containerd.running() else []
    if minor < 24 and docker.running():
        found.insert(0, DOCKERSHIM[0])
    if len(found) != 1:
        state.fail(
            "Found multiple CRI endpoints on the host. Please define which one do you wish to use by "
            f"setting the 'criSocket' field in the kubeadm configuration file: {', '.join(found)}"
            if found
            else "failed to create new CRI runtime service: validate service connection: no container "
            "runtime socket found; set nodeRegistration.criSocket",
            1,
        )
    return found[0]


def runtime(check: Preflight, socket: str | None, minor: int) -> str:
    """Check the runtime behind criSocket; returns "containerd" or "docker"."""
    socket = cri_socket(socket, minor)
    if socket in DOCKERSHIM:
        if minor >= 24:
            check.error(
                "CRI",
                f"container runtime is not running: dial unix {socket.removeprefix('unix://')}: "
                "connect: no such file or directory (dockershim was removed in v1.24)",
            )
            return "docker"
        settings = docker.running()
        if settings is None:
            check.error(
                "IsDockerSystemdCheck", "Cannot connect to the Docker daemon. Is the docker daemon running?"
            )
        elif settings["cgroup_driver"] != "systemd":
            check.error(
                "CgroupDriver",
                f'kubelet cgroup driver: "systemd" is different from docker cgroup '
                f'driver: "{settings["cgroup_driver"]}"',
            )
        return "docker"
    if socket not in CONTAINERD_SOCKETS:
        check.error(
            "CRI",
            f"container runtime is not running: output: validate service connection: dial unix "
            f"{socket.removeprefix('unix://')}: connect: no such file or directory",
        )
        return "containerd"
    settings = containerd.running()
    if settings is None:
        check.error("CRI", "container runtime is not running: output: connect: connection refused")
    elif not settings["cri"]:
        check.error(
            "CRI",
            "container runtime is not running: output: rpc error: code = Unimplemented desc = "
            "unknown service runtime.v1.RuntimeService",
        )
    elif not settings["systemd_cgroup"]:
        check.error(
            "k8slab-CgroupDriver",
            "the kubelet uses the systemd cgroup driver but containerd runs runc "
            "with SystemdCgroup = false: pods would be killed and restarted (set it in the runc options "
            "of the layout this containerd reads)",
        )
    return "containerd"


def sandbox(
    check: Preflight, runtime_name: str, repository: str, kubelet_args: dict[str, str], expected: str
) -> None:
    """The sandbox image must come from the control-plane images' repository (facts sheet pitfall 4)."""
    if runtime_name == "docker":
        image = kubelet_args.get("pod-infra-container-image", "k8s.gcr.io/pause:3.6")
        where = "the kubelet's --pod-infra-container-image"
    else:
        image = (containerd.running() or {}).get("sandbox", "")
        where = "containerd's sandbox image"
    if image.rpartition("/")[0] != repository:
        check.error(
            "k8slab-SandboxImage",
            f'{where} "{image}" is not from imageRepository "{repository}": the '
            f"runtime pulls it itself and pods never start where that registry is unreachable; it is "
            f'recommended to use "{expected}" as the CRI sandbox image',
        )
