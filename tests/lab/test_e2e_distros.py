"""End to end on the lab, the two other shapes the seeds use: CentOS 7 with Kubernetes 1.23.6 on Docker
(dockershim) from the Aliyun legacy repositories and Aliyun images, and Rocky 9 with a current version
from the Aliyun mirror, calico and ipvs, installed by a non-root user whose sudo needs a password."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from . import e2e
from .lab import Lab, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
ALIYUN_IMAGES = "registry.aliyuncs.com/google_containers"


def cluster_state(env: Lab) -> dict[str, Any]:
    """The API server's state on the first control plane (what the lab's cluster knows)."""
    return json.loads(env.run(env.nodes[0], "cat /var/lib/lab/cluster/state.json").stdout)


def test_centos7_docker_aliyun_legacy(lab: Any, tmp_path: Path) -> None:
    env: Lab = lab("centos-7", "centos-7")
    config = e2e.cluster_file(
        env, tmp_path,
        kubernetes={"version": "1.23.6", "runtime": "docker", "packageMirror": "aliyun-legacy",
                    "imageRepository": ALIYUN_IMAGES},
        network={"cni": "flannel", "proxyMode": "ipvs"},
    )
    run = e2e.apply(config, tmp_path / "state")
    print(f"centos-7 docker install: {run.seconds:.1f}s")
    assert run.code == 0, run
    assert "smoke test: passed" in run.out and "nodes: lab1 Ready, lab2 Ready" in run.out, run
    for node in env.nodes:
        assert env.run(node, "docker info --format '{{.CgroupDriver}}'").stdout.strip() == "systemd"
        assert env.run(node, "rpm -q --qf '%{VERSION}' kubeadm").stdout == "1.23.6"
    images = env.run(env.nodes[0], "docker images").stdout
    assert f"{ALIYUN_IMAGES}/pause" in images and f"{ALIYUN_IMAGES}/coredns" in images
    flags = env.run(env.nodes[0], "cat /var/lib/kubelet/kubeadm-flags.env").stdout
    assert f"--pod-infra-container-image={ALIYUN_IMAGES}/pause:3.6" in flags
    st = cluster_state(env)
    assert (st["config"]["proxyMode"], st["config"]["runtime"], st["cni"]) == ("ipvs", "docker", "flannel")


def test_rocky9_current_calico_ipvs_as_ops2_with_sudo_password(lab: Any, tmp_path: Path) -> None:
    env: Lab = lab("rocky-9", "rocky-9")
    config = e2e.cluster_file(
        env, tmp_path, user="ops2",
        kubernetes={"version": "1.35", "packageMirror": "aliyun", "imageRepository": ALIYUN_IMAGES},
        network={"cni": "calico", "proxyMode": "ipvs"},
    )
    assert "sudoPasswordEnv" in config.read_text()
    run = e2e.apply(config, tmp_path / "state")
    print(f"rocky-9 calico install as ops2: {run.seconds:.1f}s")
    assert run.code == 0, run
    assert "smoke test: passed" in run.out and "nodes: lab1 Ready, lab2 Ready" in run.out, run
    assert env.run(env.nodes[0], "kubeadm version -o short").stdout.strip().startswith("v1.35.")
    owner = env.run(env.nodes[0], "stat -c %U ~ops2/.kube/config").stdout.strip()
    assert owner == "ops2"
    toml = env.run(env.nodes[0], "cat /var/lib/lab/runtime/containerd.json").stdout
    effective = json.loads(toml)
    assert effective["systemd_cgroup"] and effective["sandbox"].startswith(f"{ALIYUN_IMAGES}/pause:")
    st = cluster_state(env)
    assert st["cni"] == "calico" and st["config"]["proxyMode"] == "ipvs"
    assert st["config"]["imageRepository"] == ALIYUN_IMAGES
