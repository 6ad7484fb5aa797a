"""The kubeadm, kubectl, containerd and crictl models refuse what the real tools refuse (facts sheet):
old or mismatched kubeadm API versions and extraArgs shapes, version skew, swap, a containerd key of the
wrong layout, an unreadable containerd config, the pause image from another registry, unverified join
discovery, a flannel network other than podSubnet, a second CNI, unknown flags."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from k8stui.recipes import artifacts

from . import e2e
from .lab import Lab, LabNode, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
DISTROS = ("ubuntu-22.04", "ubuntu-22.04")
KUBE = {"version": "1.34"}
TOKEN = "abcdef.0123456789abcdef"
PREP = "hostname,kernel,kube-repo,kube-packages,containerd"  # no swap step: swap stays on at first
CONFIG = "/root/init.yaml"
V1_KEYS_ON_V3 = """version = 3
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10.1"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
"""


@pytest.fixture(scope="module")
def env(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Lab:
    lab_env: Lab = lab(*DISTROS)
    directory = tmp_path_factory.mktemp("kube-models")
    config = e2e.cluster_file(lab_env, directory, kubernetes=KUBE)
    run = e2e.apply(config, directory / "state", "--steps", PREP)
    assert run.code == 0, run
    return lab_env


def put(env: Lab, node: LabNode, path: str, text: str) -> None:
    encoded = base64.b64encode(text.encode()).decode()
    assert env.run(node, f"echo {encoded} | base64 -d > {path}").returncode == 0


def init_config(env: Lab, **kubernetes: Any) -> str:
    spec = env.spec(kubernetes={**KUBE, **kubernetes})
    return artifacts.kubeadm_init_config(spec, spec.nodes[0]).replace(artifacts.TOKEN_PLACEHOLDER, TOKEN)


def init(env: Lab, text: str, *flags: str) -> tuple[int, str]:
    put(env, env.nodes[0], CONFIG, text)
    done = env.run(env.nodes[0], f"kubeadm init --config {CONFIG} {' '.join(flags)}")
    return done.returncode, done.stdout + done.stderr


def test_init_refuses_swap_skew_and_wrong_api_shapes(env: Lab) -> None:
    good = init_config(env)
    code, out = init(env, good)
    assert code == 1 and "[ERROR Swap]: running with swap on is not supported" in out, out
    assert env.run(env.nodes[0], "swapoff -a").returncode == 0
    old = good.replace("kubeadm.k8s.io/v1beta4", "kubeadm.k8s.io/v1beta2")
    assert 'uses an old API spec: "kubeadm.k8s.io/v1beta2"' in init(env, old)[1]
    maps = init_config(env, version="1.30").replace("v1beta3", "v1beta4").replace("v1.30.14", "v1.34.6")
    code, out = init(env, maps)
    assert code == 1 and "cannot unmarshal object" in out and "[]v1beta4.Arg" in out, out
    assert "newer than the kubeadm version" in init(env, good.replace("v1.34.6", "v1.35.3"))[1]
    assert "control plane version >= 1.33.0" in init(env, good.replace("v1.34.6", "v1.32.11"))[1]
    assert "unknown flag: --bogus" in init(env, good, "--bogus")[1]


def test_containerd_layouts_and_broken_configs(env: Lab, tmp_path: Path) -> None:
    node = env.nodes[0]
    saved = env.run(node, "cat /etc/containerd/config.toml").stdout
    assert "version = 3" in saved and "SystemdCgroup = true" in saved
    try:
        # containerd 2.x reads a version 3 file: a 1.x-style section there is silently ignored.
        put(env, node, "/etc/containerd/config.toml", V1_KEYS_ON_V3)
        assert env.run(node, "systemctl restart containerd").returncode == 0
        code, out = init(env, init_config(env))
        assert code == 1 and "SystemdCgroup = false" in out, out
        put(env, node, "/etc/containerd/config.toml", "version = 3\n[plugins\n")
        restart = env.run(node, "systemctl restart containerd")
        assert restart.returncode == 1 and "journalctl -xeu containerd.service" in restart.stderr
        assert "failed to load TOML" in env.run(node, "journalctl -u containerd --no-pager").stdout
        put(env, node, "/etc/containerd/config.toml", 'disabled_plugins = ["cri"]\n')
        assert env.run(node, "systemctl restart containerd").returncode == 0
        images = env.run(node, "crictl images")
        assert images.returncode == 1 and "unknown service runtime.v1.ImageService" in images.stderr
    finally:
        put(env, node, "/etc/containerd/config.toml", saved)
        assert env.run(node, "systemctl restart containerd && crictl info >/dev/null").returncode == 0


def test_the_pause_image_must_come_from_the_image_repository(env: Lab) -> None:
    env.run(env.nodes[0], "swapoff -a")
    aliyun = init_config(env, imageRepository="registry.aliyuncs.com/google_containers")
    code, out = init(env, aliyun)
    assert code == 1, out
    assert '[ERROR k8slab-SandboxImage]: containerd\'s sandbox image "registry.k8s.io/pause' in out


def test_join_discovery_is_verified_and_cni_manifests_are_checked(env: Lab) -> None:
    cp, worker = env.nodes
    env.run(cp, "swapoff -a")
    env.run(worker, "swapoff -a")
    code, out = init(env, init_config(env))
    assert code == 0 and f"kubeadm join {cp.ip}:6443 --token {TOKEN}" in out, out
    bad_hash = env.run(worker, f"kubeadm join {cp.ip}:6443 --token {TOKEN} "
                               f"--discovery-token-ca-cert-hash sha256:{'0' * 64}")
    assert bad_hash.returncode == 1 and "none of the public keys" in bad_hash.stderr
    unknown = env.run(worker, f"kubeadm join {cp.ip}:6443 --token xxxxxx.xxxxxxxxxxxxxxxx "
                              f"--discovery-token-ca-cert-hash sha256:{'0' * 64}")
    assert 'JWS signature in the cluster-info ConfigMap for token ID "xxxxxx"' in unknown.stderr
    assert "unsafe" in env.run(worker, f"kubeadm join {cp.ip}:6443 --token {TOKEN}").stderr
    command = env.run(cp, "kubeadm token create --print-join-command --ttl 1h").stdout.strip()
    assert command.startswith(f"kubeadm join {cp.ip}:6443 --token ")
    # The pause pitfall on a worker: its sandbox image from another registry than the cluster's images.
    other = "sed -i 's|registry.k8s.io/pause|registry.aliyuncs.com/google_containers/pause|' "
    env.run(worker, other + "/etc/containerd/config.toml && systemctl restart containerd")
    stranded = env.run(worker, command)
    assert stranded.returncode == 1 and "[ERROR k8slab-SandboxImage]" in stranded.stderr, stranded.stderr
    back = "sed -i 's|registry.aliyuncs.com/google_containers/pause|registry.k8s.io/pause|' "
    env.run(worker, back + "/etc/containerd/config.toml && systemctl restart containerd")
    joined = env.run(worker, command)
    assert joined.returncode == 0, joined.stderr
    again = env.run(worker, command)
    assert "[ERROR FileAvailable--etc-kubernetes-kubelet.conf]" in again.stderr

    kc = "kubectl --kubeconfig /etc/kubernetes/admin.conf"
    assert env.run(cp, f"{kc} get --raw /healthz").stdout == "ok\n"
    assert "NotReady" in env.run(cp, f"{kc} get nodes").stdout
    spec = env.spec(kubernetes=KUBE)
    flannel = artifacts.cni_manifest(spec) or ""
    other = flannel.replace('"Network": "10.244.0.0/16"', '"Network": "10.99.0.0/16"')
    assert other != flannel
    put(env, cp, "/root/flannel-bad.yaml", other)
    bad = env.run(cp, f"{kc} apply -f /root/flannel-bad.yaml")
    assert bad.returncode == 1 and "differs from the cluster's podSubnet 10.244.0.0/16" in bad.stderr
    put(env, cp, "/root/flannel.yaml", flannel)
    assert env.run(cp, f"{kc} apply -f /root/flannel.yaml").returncode == 0
    ready = env.run(cp, f"{kc} wait --for=condition=Ready nodes --all --timeout=30s")
    assert ready.returncode == 0 and ready.stdout.count("condition met") == 2, ready.stderr
    calico = artifacts.cni_manifest(env.spec(kubernetes=KUBE, network={"cni": "calico"})) or ""
    put(env, cp, "/root/calico.yaml", calico)
    second = env.run(cp, f"{kc} apply -f /root/calico.yaml")
    assert second.returncode == 1 and "install exactly one CNI" in second.stderr
    assert "unknown flag: --bogus" in env.run(cp, f"{kc} get nodes --bogus").stderr


def test_reset_stops_the_node_and_init_works_again(env: Lab) -> None:
    cp, worker = env.nodes
    kc = "kubectl --kubeconfig /etc/kubernetes/admin.conf"
    assert env.run(worker, "kubeadm reset").returncode == 1  # asks first; no TTY: refuses
    reset = env.run(worker, "kubeadm reset -f")
    assert reset.returncode == 0 and "does not clean CNI configuration" in reset.stdout
    left = env.run(worker, "test -e /etc/kubernetes/kubelet.conf || systemctl is-active kubelet")
    assert left.returncode != 0
    assert env.run(cp, "kubeadm reset -f").returncode == 0
    down = env.run(cp, f"{kc} get --raw /healthz")
    assert down.returncode == 1 and "admin.conf: no such file or directory" in down.stderr  # gone too
    assert env.run(cp, "ss -tlnH 'sport = :6443'").stdout.strip() == ""
    code, out = init(env, init_config(env))
    assert code == 0 and "initialized successfully" in out, out
    assert env.run(cp, f"{kc} get --raw /healthz").stdout == "ok\n"
    nodes = env.run(cp, f"{kc} get nodes").stdout
    assert "lab1" in nodes and "lab2" not in nodes  # a fresh cluster: the old state went with the reset
