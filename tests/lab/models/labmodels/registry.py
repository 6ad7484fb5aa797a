"""Which model answers which command name. Add a tool here (and its binary path in catalog.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import import_module

from . import state

# command name -> "module:function"; every function takes argv[1:] and returns the exit code.
MODELS: dict[str, str] = {
    "apt-get": "apt:apt_get",
    "apt": "apt:apt",
    "apt-mark": "apt:apt_mark",
    "apt-cache": "apt:apt_cache",
    "apt-key": "apt:apt_key",
    "dpkg-query": "apt:dpkg_query",
    "dpkg": "apt:dpkg",
    "yum": "yum:yum",
    "dnf": "yum:yum",
    "rpm": "yum:rpm",
    "yum-config-manager": "yum:config_manager",
    "systemctl": "systemd_cli:systemctl",
    "journalctl": "systemd_cli:journalctl",
    "hostnamectl": "systemd_cli:hostnamectl",
    "timedatectl": "systemd_cli:timedatectl",
    "modprobe": "kernel:modprobe",
    "lsmod": "kernel:lsmod",
    "sysctl": "kernel:sysctl",
    "swapoff": "kernel:swapoff",
    "swapon": "kernel:swapon",
    "getenforce": "security:getenforce",
    "setenforce": "security:setenforce",
    "firewall-cmd": "security:firewall_cmd",
    "ufw": "security:ufw",
    "curl": "net:curl",
    "gpg": "net:gpg",
    "chronyc": "net:chronyc",
    "k8slab": "lab:main",
    "containerd": "containerd:containerd",
    "crictl": "crictl:crictl",
    "docker": "docker:docker",
    "kubeadm": "kubeadm:kubeadm",
    "kubectl": "kubectl:kubectl",
    "kube-apiserver": "apiserver:main",  # started by kubeadm init (daemon.py), not a package binary
    "kubelet-agent": "nodeagent:main",  # started by the kubelet unit's start hook
}


def _function(spec: str) -> Callable[[list[str]], int]:
    module, _, name = spec.partition(":")
    return getattr(import_module(f"labmodels.{module}"), name)


def main(path: str, args: list[str]) -> int:
    tool = os.path.basename(path)
    try:
        if tool in MODELS:
            return _function(MODELS[tool])(args)
        from . import generic

        return generic.run(path, args)
    except state.Fail as exc:
        if str(exc):
            print(str(exc), file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        return 141
