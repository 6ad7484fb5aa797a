"""Property tests: whatever the file holds, the loader answers with a spec or a ClusterFileError."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8stui.model.cluster import ClusterSpec
from k8stui.model.load import SECTIONS, ClusterFileError, dump_cluster, load_cluster, parse_cluster, to_spec

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = sorted({f.alias or n for m in SECTIONS.values() for n, f in m.model_fields.items()} | {"sudoPassword"})

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**30, max_value=10**40),
    st.floats(allow_nan=True), st.text(max_size=30), st.sampled_from(["10.0.0.1", "1.35", "0", "", "a b;c"]),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)
documents = st.dictionaries(keys, values, max_size=8)


def answers(call: Any, *args: Any) -> ClusterSpec | None:
    """Run the loader: a spec, or None after a ClusterFileError. Anything else fails the test."""
    try:
        return call(*args)
    except ClusterFileError as exc:
        assert exc.problems and all(isinstance(p.path, str) and p.message for p in exc.problems)
        return None


@FAST
@given(documents)
def test_arbitrary_mappings(data: dict[str, Any]) -> None:
    answers(to_spec, data)
    answers(parse_cluster, yaml.safe_dump(data))


@FAST
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    answers(parse_cluster, text)


@FAST
@given(st.text(alphabet=string.printable + "{}[]:-&*!|>'\"%@`", max_size=200))
def test_yaml_punctuation_soup(text: str) -> None:
    answers(parse_cluster, text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_bytes(data)
    answers(load_cluster, path)


GOOD: dict[str, Any] = {
    "kubernetes": {"version": "1.35.3", "tokenTTL": "24h"},
    "network": {"podSubnet": "10.244.0.0/16"},
    "hostPrep": {"timeServers": ["ntp.aliyun.com"]},
    "ssh": {"user": "root", "port": 22},
    "nodes": [
        {"name": "cp1", "address": "10.0.0.11", "role": "control-plane"},
        {"name": "w1", "address": "10.0.0.21", "ssh": {"user": "ops"}},
    ],
}
SLOTS: list[tuple[Any, ...]] = [
    ("kubernetes", "version"), ("kubernetes", "tokenTTL"), ("network", "podSubnet"),
    ("hostPrep", "timeServers"),
    ("ssh", "user"), ("ssh", "port"), ("nodes", 0, "name"), ("nodes", 1, "ssh"), ("nodes", 1, "address"),
    ("nodes",), ("ssh",), ("kubernetes",), ("nodes", 0),
]


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `data` with the value at `path` replaced."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = list(data) if isinstance(data, list) else dict(data)
    copy[head] = _replace(copy[head], rest, value)
    return copy


@FAST
@given(st.sampled_from(SLOTS), values)
def test_one_bad_value_in_a_good_file(slot: tuple[Any, ...], value: Any) -> None:
    answers(parse_cluster, yaml.safe_dump(_replace(GOOD, slot, value)))


# ------------------------------------------------------------------------------------ valid specs

labels = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
ipv4 = st.tuples(*[st.integers(1, 254)] * 4).map(lambda t: ".".join(map(str, t)))
hosts = st.one_of(ipv4, st.from_regex(r"[a-z][a-z0-9]{0,6}(\.[a-z][a-z0-9]{0,6}){0,2}", fullmatch=True))
env_names = st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True)
paths = st.sampled_from(["~/.ssh/id_ed25519", "/etc/k8s/key", "~/.ssh/known_hosts"])

overrides = st.fixed_dictionaries({}, optional={
    "user": st.sampled_from(["root", "ops", "admin_1"]), "port": st.integers(1, 65535),
    "identityFile": st.one_of(st.none(), paths), "passwordEnv": st.one_of(st.none(), env_names),
    "sudo": st.sampled_from(["auto", "never", "always"]), "sudoPasswordEnv": st.one_of(st.none(), env_names),
    "bastion": st.one_of(st.none(), hosts), "knownHosts": paths,
    "hostKeyPolicy": st.sampled_from(["strict", "accept-new"]),
})
nodes = st.fixed_dictionaries(
    {"name": labels, "address": hosts},
    optional={"internalIP": ipv4, "role": st.sampled_from(["control-plane", "worker"]),
              "os": st.sampled_from(["ubuntu-22.04", "rocky-9", "centos-7"]), "ssh": overrides},
)
specs = st.fixed_dictionaries({"nodes": st.lists(nodes, max_size=4)}, optional={
    "name": labels,
    "kubernetes": st.fixed_dictionaries({}, optional={
        "version": st.sampled_from(["1.23.6", "1.30", "1.35.3", "v1.37.1"]),
        "runtime": st.sampled_from(["containerd", "docker"]),
        "packageMirror": st.sampled_from(["official", "aliyun", "aliyun-legacy", "https://m.example/k8s"]),
        "imageRepository": st.sampled_from(["registry.k8s.io", "registry.aliyuncs.com/google_containers"]),
        "tokenTTL": st.sampled_from(["0", "24h", "1h30m", 0]),
        "controlPlaneEndpoint": st.one_of(st.none(), hosts.map(lambda h: f"{h}:6443")),
        "untaintControlPlane": st.booleans(), "failCgroupV1": st.booleans(),
    }),
    "network": st.fixed_dictionaries({}, optional={
        "podSubnet": st.sampled_from(["10.244.0.0/16", "192.168.0.0/16"]), "dnsDomain": hosts,
        "cni": st.sampled_from(["flannel", "calico", "none"]), "interface": st.one_of(st.none(), labels),
        "proxyMode": st.sampled_from(["iptables", "ipvs", "nftables"]),
    }),
    "hostPrep": st.fixed_dictionaries({}, optional={
        "firewall": st.sampled_from(["disable", "open-ports", "leave"]), "disableIPv6": st.booleans(),
        "timeServers": st.one_of(st.none(), st.lists(hosts, max_size=3)),
    }),
    "ssh": overrides,
})


@FAST
@given(specs)
def test_valid_specs_round_trip(data: dict[str, Any]) -> None:
    spec = to_spec(data)
    text = dump_cluster(spec)
    again = parse_cluster(text, check_rules=False)
    assert again == spec
    assert dump_cluster(again) == text
    assert [spec.ssh_for(n) for n in spec.nodes] == [again.ssh_for(n) for n in again.nodes]
