"""The kube models' pure logic without a lab (no root): the YAML reader against PyYAML on every manifest
and kubeadm config k8stui renders, JSONPath as the recipes use it, kubeadm's API version table, the
image list against k8stui's catalog, containerd's effective settings per layout, preflight on cgroup v1."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

OFFLINE = True  # conftest: not marked `lab`
sys.path.insert(0, str(Path(__file__).parent / "models"))

from labmodels import (  # noqa: E402
    cluster,
    containerd,
    images,
    jsonpath,
    kubeadm_checks,
    kubeadm_config,
    miniyaml,
    state,
)

from k8stui.model import versions  # noqa: E402
from k8stui.model.cluster import ClusterSpec  # noqa: E402
from k8stui.recipes import artifacts  # noqa: E402


def _spec(version: str, runtime: str = "containerd", cni: str = "flannel") -> ClusterSpec:
    nodes = [
        {"name": "cp-1", "address": "10.0.0.11", "role": "control-plane"},
        {"name": "w-1", "address": "10.0.0.21", "role": "worker"},
    ]
    return ClusterSpec.model_validate(
        {
            "name": "t",
            "nodes": nodes,
            "network": {"cni": cni},
            "kubernetes": {"version": version, "runtime": runtime},
        }
    )


@pytest.mark.parametrize(
    ("version", "runtime", "cni"),
    [("1.23.6", "docker", "calico"), ("1.30", "containerd", "flannel"), ("1.37", "containerd", "calico")],
)
def test_yaml_reader_agrees_with_pyyaml(version: str, runtime: str, cni: str) -> None:
    spec = _spec(version, runtime, cni)
    outputs = {"token": "abcdef.0123456789abcdef", "ca_hash": "sha256:" + "a" * 64}
    for text in (
        artifacts.kubeadm_init_config(spec, spec.nodes[0]),
        artifacts.join_config(spec, spec.nodes[1], outputs),
        artifacts.cni_manifest(spec) or "",
        artifacts.smoke_manifest(spec),
    ):
        assert miniyaml.load_all(text) == [d for d in yaml.safe_load_all(text) if d is not None]


def test_yaml_reader_refuses_what_it_does_not_know() -> None:
    with pytest.raises(miniyaml.YamlError):
        miniyaml.load_all("a: &anchor 1\n")
    with pytest.raises(miniyaml.YamlError):
        miniyaml.load_all("a: 1\na: 2\n")


NODES = {
    "items": [
        {
            "metadata": {"name": "a"},
            "spec": {"taints": [{"key": "k1"}, {"key": "k2"}]},
            "status": {
                "conditions": [
                    {"type": "MemoryPressure", "status": "False"},
                    {"type": "Ready", "status": "True"},
                ]
            },
        },
        {
            "metadata": {"name": "b"},
            "spec": {},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]},
        },
    ]
}


def test_jsonpath_templates_of_the_recipes() -> None:
    taints = '{range .items[*]}{range .spec.taints[*]}{.key}{"\\n"}{end}{end}'
    assert jsonpath.render(taints, NODES) == "k1\nk2\n"
    ready = '{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'
    assert jsonpath.render(ready, NODES) == "a=True\nb=False\n"
    assert jsonpath.render("{.spec.ports[0].nodePort}", {"spec": {"ports": [{"nodePort": 30080}]}}) == "30080"
    with pytest.raises(jsonpath.JsonPathError):
        jsonpath.render("{.a..b}", {})


@pytest.mark.parametrize("minor", range(19, 38))
def test_kubeadm_accepts_the_api_version_k8stui_renders(minor: int) -> None:
    rendered = versions.kubeadm_api_version(versions.Version.parse(f"1.{minor}")).split("/")[1]
    assert rendered in kubeadm_config.accepted(minor)
    assert ("v1beta3" in kubeadm_config.accepted(minor)) == (22 <= minor <= 36)


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(state, "STATE", str(tmp_path / "var/lib/lab"))
    monkeypatch.setattr(state, "ROOT", str(tmp_path))
    state.save("node.json", {"distro": "ubuntu-20.04", "family": "debian", "cgroup": 1, "ip": "10.0.0.11"})
    state.save(
        "catalog.json", {"latest_patch": versions.LATEST_PATCH, "image_versions": versions.IMAGE_VERSIONS}
    )
    return tmp_path


@pytest.mark.parametrize("minor", sorted(versions.IMAGE_VERSIONS))
@pytest.mark.parametrize("repository", [None, "registry.aliyuncs.com/google_containers"])
def test_image_list_matches_k8stui_catalog(node: Path, minor: int, repository: str | None) -> None:
    version = versions.Version.parse(f"1.{minor}")
    listed = images.kubeadm_list(version.v, repository)
    assert listed == versions.images(version, repository)
    assert all(images.pull_problem(i) is None for i in listed)


def test_containerd_effective_settings_follow_the_layout() -> None:
    v2: dict[str, Any] = {
        "version": 2,
        "plugins": {
            "io.containerd.grpc.v1.cri": {
                "sandbox_image": "r/pause:3.10",
                "containerd": {"runtimes": {"runc": {"options": {"SystemdCgroup": True}}}},
            }
        },
    }
    assert containerd.effective(v2, 1) == {
        "major": 1,
        "layout": 2,
        "cri": True,
        "systemd_cgroup": True,
        "sandbox": "r/pause:3.10",
    }
    v3_with_v2_keys = dict(v2, version=3)  # a 1.x key in a version 3 file: silently ignored
    got = containerd.effective(v3_with_v2_keys, 2)
    assert (
        isinstance(got, dict) and not got["systemd_cgroup"] and got["sandbox"] == "registry.k8s.io/pause:3.10"
    )
    assert containerd.effective({"version": 3}, 1) == "containerd: unsupported config version `3`"
    assert not containerd.effective({"version": 2, "disabled_plugins": ["cri"]}, 1)["cri"]  # type: ignore[index]


def test_cgroup_v1_is_refused_from_1_35_unless_fail_cgroup_v1_false(node: Path) -> None:
    for minor, kubelet, refused in ((34, {}, False), (35, {}, True), (35, {"failCgroupV1": False}, False)):
        check = kubeadm_checks.Preflight([])
        kubeadm_checks.system(check, minor, kubelet, control_plane=False)
        assert any("SystemVerification" in e for e in check.errors) == refused, (minor, kubelet)


def test_without_cri_socket_two_runtimes_are_ambiguous(node: Path) -> None:
    state.save(
        "systemd/units.json",
        {u: {"enabled": True, "active": True} for u in ("containerd.service", "docker.service")},
    )
    state.save(
        "runtime/containerd.json",
        {"major": 1, "layout": 2, "cri": True, "systemd_cgroup": True, "sandbox": "r/pause:3.6"},
    )
    state.save("runtime/docker.json", {"cgroup_driver": "systemd", "mirrors": []})
    with pytest.raises(state.Fail, match="Found multiple CRI endpoints on the host"):
        kubeadm_checks.runtime(kubeadm_checks.Preflight([]), None, 23)
    check = kubeadm_checks.Preflight([])
    assert kubeadm_checks.runtime(check, None, 24) == "containerd" and not check.errors
    assert kubeadm_checks.runtime(check, "/var/run/dockershim.sock", 23) == "docker" and not check.errors


def test_nodes_stay_not_ready_while_the_cni_images_cannot_be_pulled(node: Path) -> None:
    manifest = artifacts.cni_manifest(_spec("1.34")) or ""
    for flannel, ready in ((manifest.replace("ghcr.io/", "ghcr.invalid/"), False), (manifest, True)):
        st = cluster.new({"podSubnet": "10.244.0.0/16"})
        cluster.register(st, "cp-1", "10.0.0.11", True, "v1.34.6", taint=True)
        assert not cluster.ready(st, "cp-1")[0]  # no CNI yet
        cluster.apply(st, miniyaml.load_all(flannel), "kube-flannel.yml")
        assert cluster.ready(st, "cp-1")[0] == ready
