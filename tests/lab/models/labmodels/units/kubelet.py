"""kubelet.service: the kubelet exits at once without the config kubeadm writes, or with swap on."""

from __future__ import annotations

from .. import kubelet


def start() -> str | None:
    return kubelet.start_problem()
