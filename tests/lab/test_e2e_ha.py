"""End to end on the lab: two control planes behind a named controlPlaneEndpoint (each control plane
resolves the name to itself: the SLB hairpin workaround). The second one joins with the uploaded
certificate key and then serves the API itself, sharing the first one's store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import e2e
from .lab import Lab, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
ENDPOINT = "k8s-api.lab"


def test_second_control_plane_joins_and_serves_the_api(lab: Any, tmp_path: Path) -> None:
    env: Lab = lab("ubuntu-22.04", "ubuntu-22.04")
    config = e2e.cluster_file(env, tmp_path, control_planes=2,
                              kubernetes={"version": "1.34", "controlPlaneEndpoint": f"{ENDPOINT}:6443"})
    run = e2e.apply(config, tmp_path / "state")
    print(f"two control planes: {run.seconds:.1f}s")
    assert run.code == 0, run
    assert "smoke test: passed" in run.out and "nodes: lab1 Ready, lab2 Ready" in run.out, run
    second = env.nodes[1]
    resolved = env.run(second, f"getent hosts {ENDPOINT}").stdout.split()
    assert resolved[:1] == [second.ip]  # itself again: the pin to the first one is gone after the join
    nodes = env.run(second, "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes").stdout
    assert [line.split()[:3] for line in nodes.splitlines()[1:]] == [
        ["lab1", "Ready", "control-plane"], ["lab2", "Ready", "control-plane"]]
    listening = env.run(second, "ss -tlnH 'sport = :6443'").stdout
    assert f"{second.ip}:6443" in listening
    joined = env.run(second, "cat /etc/kubernetes/k8stui/kubeadm-join.yaml").stdout
    assert "certificateKey:" in joined and "controlPlane:" in joined
