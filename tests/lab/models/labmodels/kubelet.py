"""kubelet.service: refuses to start without the config kubeadm writes, with swap on, or on a cgroup v1
host from 1.35 unless failCgroupV1: false (facts sheet). A started kubelet runs the node agent
(nodeagent.py): heartbeats to the API server and the NodePorts (kube-proxy's part) on this node."""

from __future__ import annotations

import os

from . import containerd, daemon, docker, kernel, miniyaml, pkgdb, state, vercmp

CONFIG = "/var/lib/kubelet/config.yaml"
KUBECONFIG = "/etc/kubernetes/kubelet.conf"
FLAGS = "/var/lib/kubelet/kubeadm-flags.env"
AGENT = "kubelet-agent"
APISERVER = "kube-apiserver"
MANIFESTS = "/etc/kubernetes/manifests"


def version() -> str:
    return vercmp.upstream(pkgdb.installed().get("kubelet", {}).get("version", "0.0.0"))


def config() -> dict:
    docs = miniyaml.load_all(state.read(CONFIG))
    return docs[0] if docs and isinstance(docs[0], dict) else {}


def start_problem() -> str | None:
    if not os.path.exists(state.root(CONFIG)):
        return (
            f'"command failed" err="failed to load kubelet config file, path: {CONFIG}, error: open '
            f'{CONFIG}: no such file or directory"'
        )
    conf = config()
    if kernel.active_swaps() and conf.get("failSwapOn", True):
        return (
            '"command failed" err="failed to run Kubelet: running with swap on is not supported, please '
            'disable swap or set --fail-swap-on flag to false"'
        )
    minor = int(version().split(".")[1])
    if state.node().get("cgroup") == 1 and minor >= 35 and conf.get("failCgroupV1", True):
        return (
            '"command failed" err="failed to run Kubelet: kubelet is configured to not run on a host using '
            'cgroup v1. cgroup v1 support is unsupported and will be removed in a future release"'
        )
    if os.path.exists(state.root(KUBECONFIG)):
        state.journal(
            "kubelet.service", "kubelet: Starting kubelet agent (node status, kube-proxy NodePorts)"
        )
        daemon.spawn(AGENT, [])
    sync_static_pods()
    return None


def runtime_up() -> bool:
    """The runtime this kubelet was configured for (kubeadm-flags.env) is running and serves CRI."""
    if "--container-runtime-endpoint=" in state.read(FLAGS):
        settings = containerd.running()
        return bool(settings and settings["cri"])
    return docker.running() is not None  # dockershim (< 1.24): the kubelet talks to Docker itself


def sync_static_pods() -> None:
    """Run the API server of /etc/kubernetes/manifests (with a working runtime); stop it when removed."""
    manifest = state.root(f"{MANIFESTS}/kube-apiserver.yaml")
    if not os.path.exists(manifest):
        daemon.stop(APISERVER)
        return
    if daemon.running(APISERVER) or not runtime_up():
        return
    pod = miniyaml.load_all(state.read(f"{MANIFESTS}/kube-apiserver.yaml"))[0]
    command = pod["spec"]["containers"][0]["command"]
    daemon.spawn(APISERVER, [str(a) for a in command[1:]])
