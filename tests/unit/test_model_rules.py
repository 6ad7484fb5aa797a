"""Cross-field rules and warnings of the cluster file: each names the field to fix."""

from __future__ import annotations

from typing import Any

import pytest

from k8stui.model import rules
from k8stui.model.cluster import ClusterSpec
from k8stui.model.load import to_spec
from k8stui.model.problems import Problem


def spec_of(**changes: Any) -> ClusterSpec:
    """A valid 3-node cluster (1.35.3, no warnings) with top-level sections replaced or merged."""
    data: dict[str, Any] = {
        "name": "lab",
        "kubernetes": {"version": "1.35.3"},
        "nodes": [
            {"name": "cp1", "address": "10.0.0.11", "role": "control-plane"},
            {"name": "w1", "address": "10.0.0.21"},
            {"name": "w2", "address": "10.0.0.22"},
        ],
    }
    for key, value in changes.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) and key in data else value
    return to_spec(data)


def paths(found: list[Problem]) -> list[str]:
    return [p.path for p in found]


def one(found: list[Problem], path: str) -> str:
    matches = [p.message for p in found if p.path == path]
    assert len(matches) == 1, found
    return matches[0]


def node(name: str, address: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "address": address, **extra}


def test_baseline_is_clean() -> None:
    spec = spec_of()
    assert rules.check(spec) == []
    assert rules.warnings(spec) == []


def test_no_nodes() -> None:
    assert "at least one node" in one(rules.check(spec_of(nodes=[])), "nodes")


def test_duplicate_names() -> None:
    found = rules.check(spec_of(nodes=[node("a", "10.0.0.1", role="control-plane"), node("a", "10.0.0.2")]))
    assert "nodes[0]" in one(found, "nodes[1].name")


def test_duplicate_addresses() -> None:
    nodes = [node("a", "10.0.0.1", role="control-plane"), node("b", "10.0.0.1", internalIP="10.0.0.2")]
    assert "nodes[0] (a)" in one(rules.check(spec_of(nodes=nodes)), "nodes[1].address")


def test_nat_nodes_share_an_address_on_different_ports() -> None:
    nodes = [
        node("a", "203.0.113.5", role="control-plane", internalIP="10.0.0.1", ssh={"port": 2201}),
        node("b", "203.0.113.5", internalIP="10.0.0.2", ssh={"port": 2202}),
    ]
    assert rules.check(spec_of(nodes=nodes)) == []


def test_nat_nodes_without_internal_ip_collide() -> None:
    nodes = [
        node("a", "203.0.113.5", role="control-plane", ssh={"port": 2201}),
        node("b", "203.0.113.5", ssh={"port": 2202}),
    ]
    message = one(rules.check(spec_of(nodes=nodes)), "nodes[1].internalIP")
    assert "defaults to address" in message


def test_same_address_behind_different_bastions_is_fine() -> None:
    nodes = [
        node("a", "10.0.0.1", role="control-plane", ssh={"bastion": "jump1"}),
        node("b", "10.0.0.1", internalIP="10.1.0.1", ssh={"bastion": "jump2"}),
    ]
    assert rules.check(spec_of(nodes=nodes)) == []


def test_duplicate_internal_ips() -> None:
    nodes = [node("a", "10.0.0.1", role="control-plane"), node("b", "203.0.113.9", internalIP="10.0.0.1")]
    assert "nodes[0] (a)" in one(rules.check(spec_of(nodes=nodes)), "nodes[1].internalIP")


def test_hostname_address_needs_internal_ip() -> None:
    nodes = [node("a", "10.0.0.1", role="control-plane"), node("b", "b.example.com")]
    assert "set internalIP" in one(rules.check(spec_of(nodes=nodes)), "nodes[1].internalIP")


def test_no_control_plane() -> None:
    assert "control-plane" in one(rules.check(spec_of(nodes=[node("a", "10.0.0.1")])), "nodes")


def test_several_control_planes_need_an_endpoint() -> None:
    nodes = [node(f"cp{i}", f"10.0.0.{i}", role="control-plane") for i in (1, 2, 3)]
    found = rules.check(spec_of(nodes=nodes))
    assert "3 control-plane nodes" in one(found, "kubernetes.controlPlaneEndpoint")
    assert rules.check(spec_of(nodes=nodes, kubernetes={"controlPlaneEndpoint": "lb.internal:6443"})) == []


def test_sudo_never_for_a_non_root_user() -> None:
    message = one(rules.check(spec_of(ssh={"user": "ops", "sudo": "never"})), "ssh.sudo")
    assert "sudo: never" in message and "cp1, w1, w2" in message
    nodes = [node("a", "10.0.0.1", role="control-plane", ssh={"user": "ops", "sudo": "never"})]
    assert paths(rules.check(spec_of(nodes=nodes))) == ["nodes[0].ssh.sudo"]
    root_node = [node("a", "10.0.0.1", role="control-plane", ssh={"user": "root"})]
    assert rules.check(spec_of(nodes=root_node, ssh={"user": "ops", "sudo": "never"})) == []


@pytest.mark.parametrize(
    ("network", "path", "words"),
    [
        ({"podSubnet": "fd00:10::/56"}, "network.serviceSubnet", "same IP family"),
        ({"serviceSubnet": "10.244.0.0/20"}, "network.serviceSubnet", "overlaps podSubnet"),
        ({"podSubnet": "10.0.0.0/16"}, "network.podSubnet", "(10.0.0.11 of cp1, 10.0.0.21 of w1, 10.0.0"),
        ({"serviceSubnet": "10.0.0.0/16"}, "network.serviceSubnet", "contains node IPs"),
        ({"podSubnet": "10.244.0.0/25"}, "network.podSubnet", "smaller than the /24"),
        ({"podSubnet": "10.244.0.0/23"}, "network.podSubnet", "room for 2 nodes"),
        ({"podSubnet": "8.0.0.0/7"}, "network.podSubnet", "too large"),
        ({"serviceSubnet": "10.64.0.0/11"}, "network.serviceSubnet", "too large"),
        ({"serviceSubnet": "10.96.0.0/29"}, "network.serviceSubnet", "too small"),
    ],
)
def test_subnet_rules(network: dict[str, str], path: str, words: str) -> None:
    assert words in one(rules.check(spec_of(network=network)), path)


def test_pod_subnet_exactly_big_enough() -> None:
    assert rules.check(spec_of(network={"podSubnet": "10.244.0.0/22"})) == []


def test_ipv6_cluster() -> None:
    nodes = [node("a", "fd00::11", role="control-plane"), node("b", "fd00::12")]
    network = {"podSubnet": "fd00:10::/56", "serviceSubnet": "fd00:20::/112"}
    assert rules.check(spec_of(nodes=nodes, network=network)) == []
    too_big = {**network, "podSubnet": "fd00:10::/40"}
    assert "/48" in one(rules.check(spec_of(nodes=nodes, network=too_big)), "network.podSubnet")


def test_node_ip_family_must_match_the_subnets() -> None:
    nodes = [node("a", "10.0.0.1", role="control-plane"), node("b", "fd00::12")]
    assert "IPv6" in one(rules.check(spec_of(nodes=nodes)), "nodes[1].internalIP")


@pytest.mark.parametrize(
    ("kubernetes", "network", "path", "words"),
    [
        ({"version": "1.99"}, {}, "kubernetes.version", "not a version k8stui knows"),
        ({"version": "1.12.3"}, {}, "kubernetes.version", "1.19 to 1.37"),
        ({"version": "1.35", "packageMirror": "aliyun-legacy"}, {}, "kubernetes.packageMirror", "1.28"),
        ({"version": "1.23.6", "runtime": "docker"}, {}, "kubernetes.packageMirror", "aliyun-legacy"),
        ({"version": "1.35", "runtime": "docker"}, {}, "kubernetes.runtime", "dockershim"),
        ({"version": "1.32"}, {"proxyMode": "nftables"}, "network.proxyMode", "1.33"),
    ],
)
def test_version_rules(kubernetes: dict[str, str], network: dict[str, str], path: str, words: str) -> None:
    found = rules.check(spec_of(kubernetes=kubernetes, network=network))
    assert words in one(found, path)


def test_legacy_docker_cluster_is_valid() -> None:
    spec = spec_of(kubernetes={"version": "1.23.6", "runtime": "docker", "packageMirror": "aliyun-legacy",
                               "imageRepository": "registry.aliyuncs.com/google_containers"})
    assert rules.check(spec) == []
    assert "docker era" in one(rules.warnings(spec), "kubernetes.version")


# ------------------------------------------------------------------------------------------- warnings


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"kubernetes": {"tokenTTL": 0}}, "kubernetes.tokenTTL", "standing credential"),
        ({"kubernetes": {"version": "1.34.6"}}, "kubernetes.version", "end of life"),
        ({"kubernetes": {"version": "1.35.99"}}, "kubernetes.version", "newer than the latest patch"),
        ({"kubernetes": {"version": "1.36", "packageMirror": "aliyun",
                         "imageRepository": "registry.aliyuncs.com/google_containers"}},
         "kubernetes.packageMirror", "unverified"),
        ({"network": {"proxyMode": "ipvs"}}, "network.proxyMode", "deprecated"),
        ({"kubernetes": {"failCgroupV1": False}}, "kubernetes.failCgroupV1", "cgroup v1"),
        ({"kubernetes": {"packageMirror": "tuna"}}, "kubernetes.imageRepository", "registry.aliyuncs.com"),
        ({"nodes": [node("a", "10.0.0.1", role="control-plane")]}, "kubernetes.untaintControlPlane", "taint"),
        ({"network": {"cni": "none"}}, "network.cni", "NotReady"),
    ],
)
def test_warnings(changes: dict[str, Any], path: str, words: str) -> None:
    spec = spec_of(**changes)
    assert rules.check(spec) == []
    assert words in one(rules.warnings(spec), path)


def test_single_node_lab_untainted_has_no_warning() -> None:
    only = [node("a", "10.0.0.1", role="control-plane")]
    spec = spec_of(nodes=only, kubernetes={"untaintControlPlane": True})
    assert rules.warnings(spec) == []


def test_unknown_version_gives_no_catalog_warnings() -> None:
    spec = spec_of(kubernetes={"version": "1.99"})
    assert rules.warnings(spec) == []
    assert paths(rules.check(spec)) == ["kubernetes.version"]


def test_rules_validate_file_delegates(tmp_path: Any) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("kubernetes: {version: '1.35'}\nnodes: []\n")
    spec, problems, warnings = rules.validate_file(path)
    assert spec is not None and paths(problems) == ["nodes"] and warnings == []
