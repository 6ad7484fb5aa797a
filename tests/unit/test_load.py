"""The cluster file loader: every bad input is a ClusterFileError naming the field, never a traceback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from k8stui.model.cluster import ClusterSpec, NodeSpec, SSHOverride
from k8stui.model.load import (
    MAX_BYTES,
    ClusterFileError,
    dump_cluster,
    load_cluster,
    parse_cluster,
    save_cluster,
    validate_file,
    validate_text,
)
from k8stui.model.problems import Problem

GOOD = """\
apiVersion: k8stui/v1
kind: Cluster
name: lab
kubernetes:
  version: "1.35.3"
nodes:
  - name: master1
    address: 203.0.113.10
    internalIP: 10.0.0.11
    role: control-plane
  - name: node1
    address: 10.0.0.21
    ssh: {user: ops, sudo: always}
"""


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ClusterFileError) as info:
        parse_cluster(text, "cluster.yaml")
    return info.value.problems


def only_problem(text: str) -> Problem:
    found = problems_of(text)
    assert len(found) == 1, found
    return found[0]


def k8s(line: str) -> str:
    """GOOD with one extra key in the kubernetes section."""
    return GOOD.replace('  version: "1.35.3"\n', f'  version: "1.35.3"\n  {line}\n')


def with_node_line(line: str) -> str:
    """GOOD with one extra key on the worker node."""
    return GOOD.replace("    address: 10.0.0.21\n", f"    address: 10.0.0.21\n    {line}\n")


def test_good_file_loads() -> None:
    spec = parse_cluster(GOOD)
    assert spec.name == "lab"
    assert [n.name for n in spec.nodes] == ["master1", "node1"]
    assert spec.ssh_for(spec.nodes[1]).user == "ops"
    assert spec.ssh_for(spec.nodes[0]).user == "root"


# ------------------------------------------------------------------------------- whole-file problems


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("   \n# only a comment\n", "is empty"),
        ("- a\n- b\n", "must be a mapping"),
        ("just a string\n", "must be a mapping"),
        ("42\n", "must be a mapping"),
        ("name: [unclosed\n", "not valid YAML: line 2"),
        ("a: b\n---\nc: d\n", "not valid YAML"),
        ("name: lab\nname: other\n", "appears twice"),
        ("key: \x00\x01\x02\n", "not valid YAML"),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        ("port: " + "9" * 6000 + "\n", "not valid YAML"),
    ],
)
def test_whole_file_problems(text: str, words: str) -> None:
    problem = only_problem(text)
    assert problem.path == ""
    assert words in problem.message


def test_yaml_error_does_not_echo_the_line() -> None:
    # PyYAML quotes the offending line; that line could hold a secret, so the message must not.
    problem = only_problem("ssh:\n  passwordEnv: s3cr3t-value: [\n")
    assert "s3cr3t" not in problem.message
    assert "line 2" in problem.message


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    problem = only_problem("\n".join(lines) + "\n")
    assert "too large" in problem.message


def test_recursive_alias_is_refused() -> None:
    problem = only_problem("nodes: &a [*a]\n")
    assert problem.path == "nodes[0]"
    assert "nested too deeply" in problem.message


def test_non_text_keys() -> None:
    problem = only_problem("1: one\n")
    assert "keys must be text" in problem.message


def test_top_level_problem_str_has_no_path() -> None:
    assert str(Problem("", "x is empty")) == "x is empty"
    assert str(Problem("nodes[1].internalIP", "bad")) == "nodes[1].internalIP: bad"


# ------------------------------------------------------------------------------------ field problems


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        (GOOD.replace("kind: Cluster", "kind: Pod"), "kind", "'Cluster'"),
        (GOOD.replace("apiVersion: k8stui/v1", "apiVersion: v1"), "apiVersion", "'k8stui/v1'"),
        (GOOD.replace("name: lab", "name: Lab_1"), "name", "not a cluster name"),
        (GOOD.replace('"1.35.3"', "latest"), "kubernetes.version", "not a Kubernetes version"),
        (k8s("runtime: cri-o"), "kubernetes.runtime", "'cri-o'"),
        (k8s("tokenTtl: 1h"), "kubernetes.tokenTtl", "tokenTTL"),
        (k8s("tokenTTL: soon"), "kubernetes.tokenTTL", "duration"),
        (k8s("packageMirror: ftp://x"), "kubernetes.packageMirror",
         "not a mirror"),
        (k8s("imageRepository: 'a b'"),
         "kubernetes.imageRepository", "not allowed"),
        (k8s("controlPlaneEndpoint: lb.example"),
         "kubernetes.controlPlaneEndpoint", "host:port"),
        (k8s("untaintControlPlane: maybe"),
         "kubernetes.untaintControlPlane", "true or false"),
        (GOOD + "network: {podSubnet: 10.244.0.1/16}\n", "network.podSubnet", "not a valid CIDR"),
        (GOOD + "network: {cni: weave}\n", "network.cni", "'flannel'"),
        (GOOD + "network: {proxyMode: userspace}\n", "network.proxyMode", "'iptables'"),
        (GOOD + "network: {interface: 'eth0; reboot'}\n", "network.interface", "interface name"),
        (GOOD + "network: {pod_subnet: 10.1.0.0/16}\n", "network.pod_subnet", "podSubnet"),
        (GOOD + "hostPrep: {firewall: off}\n", "hostPrep.firewall", "'disable'"),
        (GOOD + "hostPrep: {timeServers: ['ntp;x']}\n", "hostPrep.timeServers[0]", "host name"),
        (GOOD + "hostPrep: {timeServers: ntp.aliyun.com}\n", "hostPrep.timeServers", "a list"),
        (GOOD + "ssh: {port: 70000}\n", "ssh.port", "65535"),
        (GOOD + "ssh: {port: twenty-two}\n", "ssh.port", "whole number"),
        (GOOD + "ssh: {hostKeyPolicy: ignore}\n", "ssh.hostKeyPolicy", "'strict'"),
        (GOOD + "ssh: {passwordEnv: 'A-B'}\n", "ssh.passwordEnv", "environment variable"),
        (GOOD + "ssh: {user: 'root;id'}\n", "ssh.user", "user name"),
        (GOOD + "ssh: {bastion: 'a b@c'}\n", "ssh.bastion", ""),
        (GOOD + "ssh: {identityfile: ~/.ssh/id_rsa}\n", "ssh.identityfile", "identityFile"),
        (GOOD + "ssh: [root]\n", "ssh", "a mapping"),
        (GOOD + "nodes: {}\n", "", "appears twice"),
        (with_node_line("internalIP: 10.0.0.300"), "nodes[1].internalIP", "not an IP address"),
        (with_node_line("internalIp: 10.0.0.31"), "nodes[1].internalIp", "'internalIP'"),
        (with_node_line("internal_ip: 10.0.0.31"), "nodes[1].internal_ip", "'internalIP'"),
        (with_node_line("role: master"), "nodes[1].role", "'control-plane'"),
        (with_node_line("os: Ubuntu 22.04"), "nodes[1].os", "an OS like"),
        (with_node_line("rol: worker"), "nodes[1].rol", "'role'"),
        (with_node_line("zzz: 1"), "nodes[1].zzz", "known keys here"),
        (GOOD.replace("name: node1", "name: Node_1"), "nodes[1].name", "RFC 1123"),
        (GOOD.replace("name: node1", "name: 123"), "nodes[1].name", "expected text"),
        (GOOD.replace("name: node1", "name: yes"), "nodes[1].name", "found true"),
        (GOOD.replace("address: 10.0.0.21", "address: 'h;rm -rf /'"), "nodes[1].address", "host name"),
        (GOOD.replace("    address: 10.0.0.21\n", ""), "nodes[1].address", "is required"),
        (GOOD.replace("sudo: always}", "sudo: sometimes}"), "nodes[1].ssh.sudo", "'auto'"),
        (GOOD.replace("sudo: always}", "port: 0}"), "nodes[1].ssh.port", "greater than"),
        (GOOD.replace("  - name: node1", "  - just-a-string\n  - name: node1"), "nodes[1]", "a mapping"),
        (GOOD + "extra: 1\n", "extra", "unknown key"),
        (GOOD + "node: []\n", "node", "'nodes'"),
    ],
)
def test_field_problem_names_the_path(text: str, path: str, words: str) -> None:
    found = problems_of(text)
    assert any(p.path == path and words in p.message for p in found), found


def test_password_in_file_is_refused_without_echo() -> None:
    found = problems_of(GOOD + "ssh:\n  password: hunter2\n")
    assert [p.path for p in found] == ["ssh.password"]
    assert "passwordEnv" in found[0].message
    assert "hunter2" not in str(found)


def test_node_password_and_sudo_password_are_refused() -> None:
    text = GOOD.replace("{user: ops, sudo: always}", "{user: ops, password: pw1, sudoPassword: pw2}")
    found = problems_of(text)
    assert {p.path for p in found} == {"nodes[1].ssh.password", "nodes[1].ssh.sudoPassword"}
    assert "sudoPasswordEnv" in next(p.message for p in found if p.path.endswith("sudoPassword"))
    assert "pw1" not in str(found) and "pw2" not in str(found)


def test_password_problem_does_not_hide_other_problems() -> None:
    found = problems_of(GOOD + "ssh:\n  password: x\n  port: -1\n")
    assert {p.path for p in found} == {"ssh.password", "ssh.port"}


def test_null_password_is_the_documented_placeholder() -> None:
    spec = parse_cluster(GOOD + "ssh:\n  password: null\n  passwordEnv: SSH_PW\n")
    assert spec.ssh.password is None
    assert spec.ssh.password_env == "SSH_PW"


def test_unquoted_versions_keep_their_digits() -> None:
    # YAML 1.1 reads 1.30 as the float 1.3; the loader keeps it as written.
    spec = parse_cluster(GOOD.replace('"1.35.3"', "1.30"), check_rules=False)
    assert spec.kubernetes.version == "1.30"


def test_empty_sections_mean_defaults() -> None:
    spec = parse_cluster(GOOD + "network:\n  # cni: calico\nssh:\nhostPrep:\n")
    assert spec.network.cni == "flannel" and spec.ssh.user == "root"
    assert "kubernetes" in {p.path for p in problems_of("kubernetes: 3\n")}


def test_token_ttl_zero_as_number() -> None:
    spec = parse_cluster(k8s("tokenTTL: 0"))
    assert spec.kubernetes.token_ttl == "0"


def test_many_problems_are_all_reported() -> None:
    text = GOOD.replace("role: control-plane", "role: boss").replace("address: 10.0.0.21", "address: 'a b'")
    assert {p.path for p in problems_of(text)} == {"nodes[0].role", "nodes[1].address"}


def test_huge_values_are_cut_in_messages() -> None:
    found = problems_of(GOOD.replace("name: lab", "name: " + "X" * 100_000))
    assert len(found[0].message) <= 400


def test_cross_field_rules_run_after_structure() -> None:
    text = GOOD.replace("name: node1", "name: master1")
    found = problems_of(text)
    assert [p.path for p in found] == ["nodes[1].name"]
    assert parse_cluster(text, check_rules=False).nodes[1].name == "master1"


def test_error_str_lists_every_problem() -> None:
    error = ClusterFileError([Problem("a", "x"), Problem("b.c", "y")], "f.yaml")
    assert str(error) == "f.yaml: 2 problems\n  a: x\n  b.c: y"


# ------------------------------------------------------------------------------------ files on disk


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ClusterFileError) as info:
        load_cluster(tmp_path / "nope.yaml")
    assert "cannot read" in info.value.problems[0].message


def test_load_directory(tmp_path: Path) -> None:
    with pytest.raises(ClusterFileError) as info:
        load_cluster(tmp_path)
    assert "cannot read" in info.value.problems[0].message


def test_load_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ClusterFileError) as info:
        load_cluster(path)
    assert "not UTF-8" in info.value.problems[0].message


def test_load_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ClusterFileError):
        load_cluster(path)


def test_load_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 10))
    with pytest.raises(ClusterFileError) as info:
        load_cluster(path)
    assert "larger than" in info.value.problems[0].message


def test_load_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_cluster(path).name == "lab"


def test_validate_file_returns_spec_with_rule_problems(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.replace("name: node1", "name: master1"))
    spec, problems, warnings = validate_file(path)
    assert spec is not None and [p.path for p in problems] == ["nodes[1].name"]
    assert warnings == []


def test_validate_text_structure_problem_has_no_spec() -> None:
    spec, problems, _ = validate_text("nodes: 3\n")
    assert spec is None and problems[0].path == "nodes"


# ------------------------------------------------------------------------------------ dump and save


def test_round_trip_keeps_the_model() -> None:
    spec = parse_cluster(GOOD)
    again = parse_cluster(dump_cluster(spec))
    assert again == spec
    assert dump_cluster(again) == dump_cluster(spec)


def test_dump_order_and_omissions() -> None:
    text = dump_cluster(parse_cluster(GOOD))
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]
    assert keys == ["apiVersion", "kind", "name", "kubernetes", "network", "hostPrep", "ssh", "nodes"]
    assert "controlPlaneEndpoint" not in text and "null" not in text and "password" not in text
    assert 'version: "1.35.3"' in text
    assert text.index("  - name: master1") < text.index("  - name: node1")


def test_dump_keeps_meaningful_nulls() -> None:
    spec = parse_cluster(GOOD + "ssh: {identityFile: null}\n")
    text = dump_cluster(spec)
    assert "identityFile: null" in text
    assert parse_cluster(text).ssh.identity_file is None


def test_dump_keeps_node_override_nulls() -> None:
    text = GOOD.replace("{user: ops, sudo: always}", "{identityFile: null}")
    text += "ssh: {identityFile: ~/.ssh/k}\n"
    spec = parse_cluster(text)
    again = parse_cluster(dump_cluster(spec))
    assert again.ssh_for(again.nodes[1]).identity_file is None
    assert again.ssh_for(again.nodes[0]).identity_file == "~/.ssh/k"


def test_empty_node_ssh_is_omitted() -> None:
    spec = parse_cluster(GOOD.replace("{user: ops, sudo: always}", "{}"))
    assert spec.nodes[1].ssh is None
    assert "ssh:" not in dump_cluster(spec).split("nodes:")[1]


def test_dump_never_writes_passwords() -> None:
    spec = parse_cluster(GOOD)
    spec.ssh.password = "hunter2"  # type: ignore[assignment]  (the TUI keeps a prompted one in memory)
    spec.nodes[1].ssh = SSHOverride(user="ops", password="pw2")  # type: ignore[arg-type]
    text = dump_cluster(spec)
    assert "hunter2" not in text and "pw2" not in text and "password" not in text


def test_dump_programmatic_spec() -> None:
    spec = ClusterSpec(name="x", nodes=[NodeSpec(name="a", address="10.1.0.1", role="control-plane")])
    assert parse_cluster(dump_cluster(spec)) == spec


def test_save_is_atomic_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text("old")
    spec = parse_cluster(GOOD)
    save_cluster(spec, path)
    assert load_cluster(path) == spec
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["cluster.yaml"]


def test_save_into_missing_directory_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        save_cluster(parse_cluster(GOOD), tmp_path / "missing" / "cluster.yaml")
    assert list(tmp_path.iterdir()) == []
