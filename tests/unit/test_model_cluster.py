"""The cluster models: values that can never be valid are refused, SSH overrides merge as documented."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from k8stui.model.cluster import ClusterSpec, KubernetesSpec, NetworkSpec, NodeSpec, SSHOverride, SSHSpec


@pytest.mark.parametrize(
    "name", ["a\n", "node;1", "Node1", "-a", "a" * 64, "", "a b", "a$(id)"],
)
def test_bad_node_names(name: str) -> None:
    with pytest.raises(ValidationError):
        NodeSpec(name=name, address="10.0.0.1")


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1\n", "host name", "h;id", "`id`", "a..b", "-a.example", "x" * 300, "10.0.0.300", "10.1"],
)
def test_bad_addresses(address: str) -> None:
    with pytest.raises(ValidationError):
        NodeSpec(name="a", address=address)


@pytest.mark.parametrize("address", ["10.0.0.1", "fd00::1", "node1", "node1.example.com", "ssh-alias"])
def test_good_addresses(address: str) -> None:
    assert NodeSpec(name="a", address=address).address == address


def test_node_ip_prefers_internal_ip() -> None:
    assert NodeSpec(name="a", address="203.0.113.1", internalIP="10.0.0.1").node_ip == "10.0.0.1"
    assert NodeSpec(name="a", address="10.0.0.2").node_ip == "10.0.0.2"
    assert NodeSpec(name="a", address="node-a.example").node_ip is None


def test_ipv6_internal_ip_is_normalised() -> None:
    assert NodeSpec(name="a", address="h", internalIP="FD00:0::0001").internal_ip == "fd00::1"


@pytest.mark.parametrize(("given", "stored"), [("v1.35.3", "1.35.3"), ("1.35", "1.35"), (" 1.30 ", "1.30")])
def test_versions_are_normalised(given: str, stored: str) -> None:
    assert KubernetesSpec(version=given).version == stored


@pytest.mark.parametrize("version", ["2.0.0", "1.35.3.1", "latest", "1.35-rc", "1.35.3;id"])
def test_bad_versions(version: str) -> None:
    with pytest.raises(ValidationError):
        KubernetesSpec(version=version)


@pytest.mark.parametrize(("ttl", "stored"), [("24h", "24h"), (0, "0"), ("0s", "0"), ("1h30m", "1h30m")])
def test_token_ttls(ttl: object, stored: str) -> None:
    assert KubernetesSpec(tokenTTL=ttl).token_ttl == stored


@pytest.mark.parametrize("ttl", ["forever", "24", "-1h", "1d"])
def test_bad_token_ttls(ttl: str) -> None:
    with pytest.raises(ValidationError):
        KubernetesSpec(tokenTTL=ttl)


def test_mirror_url_loses_trailing_slash() -> None:
    assert KubernetesSpec(packageMirror="https://mirror.example/k8s/").package_mirror == "https://mirror.example/k8s"


@pytest.mark.parametrize("mirror", ["https://x/$(id)", "file:///etc", "aliyun2", "https://a b"])
def test_bad_mirrors(mirror: str) -> None:
    with pytest.raises(ValidationError):
        KubernetesSpec(packageMirror=mirror)


def test_strict_cidrs() -> None:
    with pytest.raises(ValidationError):
        NetworkSpec(podSubnet="10.244.1.0/16")


def test_override_merges_only_what_the_node_sets() -> None:
    base = SSHSpec(user="root", port=22, identityFile="~/.ssh/k")
    merged = base.merged(SSHOverride(user="ops"))
    assert (merged.user, merged.port, merged.identity_file) == ("ops", 22, "~/.ssh/k")


def test_null_override_clears_only_nullable_keys() -> None:
    base = SSHSpec(identityFile="~/.ssh/k", bastion="jump")
    merged = base.merged(SSHOverride(identityFile=None, bastion=None, port=None, user=None))
    assert merged.identity_file is None and merged.bastion is None
    assert merged.port == 22 and merged.user == "root"


def test_needs_sudo() -> None:
    assert not SSHSpec().needs_sudo
    assert SSHSpec(user="ops").needs_sudo
    assert not SSHSpec(user="ops", sudo="never").needs_sudo
    assert SSHSpec(sudo="always").needs_sudo


def test_empty_node_ssh_is_none() -> None:
    assert NodeSpec(name="a", address="h", ssh={}).ssh is None
    assert NodeSpec(name="a", address="h", ssh={"port": 2222}).ssh is not None


def test_roles_and_lookup() -> None:
    spec = ClusterSpec(nodes=[
        NodeSpec(name="w", address="10.0.0.2"),
        NodeSpec(name="cp", address="10.0.0.1", role="control-plane"),
    ])
    assert spec.first_control_plane is not None and spec.first_control_plane.name == "cp"
    assert [n.name for n in spec.workers] == ["w"]
    assert spec.node("w").address == "10.0.0.2"
    with pytest.raises(KeyError):
        spec.node("missing")


def test_assignment_is_validated() -> None:
    node = NodeSpec(name="a", address="10.0.0.1")
    with pytest.raises(ValidationError):
        node.address = "bad host;"
