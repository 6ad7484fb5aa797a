"""Preflight findings: one test per finding, plus order and determinism."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from k8stui.model.cluster import ClusterSpec
from k8stui.model.facts import Facts, Nic, OsInfo
from k8stui.model.load import to_spec
from k8stui.recipes.preflight import Finding, blocking, evaluate, evaluate_all

IPS = {"cp1": "10.0.0.11", "w1": "10.0.0.21", "w2": "10.0.0.22"}


def spec_of(**changes: Any) -> ClusterSpec:
    data: dict[str, Any] = {
        "kubernetes": {"version": "1.35.3"},
        "nodes": [
            {"name": "cp1", "address": IPS["cp1"], "role": "control-plane"},
            {"name": "w1", "address": IPS["w1"]},
            {"name": "w2", "address": IPS["w2"]},
        ],
    }
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return to_spec(data)


def healthy(name: str) -> Facts:
    ip = IPS.get(name, "10.0.0.99")
    return Facts(
        hostname=name, os=OsInfo("ubuntu", "22.04"), kernel="6.8.0", arch="x86_64", cpus=2, memory_mb=3900,
        cgroup_version=2, product_uuid=f"uuid-{name}",
        nics=(Nic("eth0", f"52:54:00:00:00:{ip.rsplit('.', 1)[1]}", (f"{ip}/24",)),
              Nic("docker0", "02:42:00:00:00:01", ("172.17.0.1/16",))),
        runtime="none", epoch=1_800_000_000.0, modules=("overlay", "br_netfilter", "ip_vs"),
    )


def all_facts(**changed: Facts) -> dict[str, Facts]:
    facts = {name: healthy(name) for name in IPS}
    facts.update(changed)
    return facts


def codes(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.severity, f.code) for f in findings]


def findings_for(node: str, spec: ClusterSpec | None = None, **facts_changes: Any) -> list[Finding]:
    facts = all_facts(**{node: replace(healthy(node), **facts_changes)})
    return evaluate(spec or spec_of(), node, facts)


def test_healthy_cluster_has_no_findings() -> None:
    assert evaluate_all(spec_of(), all_facts()) == {"cp1": [], "w1": [], "w2": []}


def test_missing_facts() -> None:
    facts = all_facts()
    del facts["w1"]
    assert codes(evaluate(spec_of(), "w1", facts)) == [("error", "no-facts")]
    assert evaluate(spec_of(), "w2", facts) == []


def test_duplicate_hostname_is_a_warning_the_hostname_step_fixes() -> None:
    found = findings_for("w2", hostname="W1")
    assert codes(found) == [("warning", "duplicate-hostname")]
    assert "w1" in found[0].found and "renames it to 'w2'" in found[0].fix


def test_duplicate_product_uuid() -> None:
    found = findings_for("w2", product_uuid="UUID-W1")
    assert codes(found) == [("error", "duplicate-product-uuid")]
    assert "cloned" in found[0].why


def test_empty_product_uuids_are_not_duplicates() -> None:
    facts = {n: replace(healthy(n), product_uuid="") for n in IPS}
    assert evaluate(spec_of(), "w1", facts) == []


def test_duplicate_mac() -> None:
    found = findings_for("w2", nics=(Nic("ens3", "52:54:00:00:00:21", ("10.0.0.22/24",)),))
    assert codes(found) == [("error", "duplicate-mac")]
    assert "ens3" in found[0].found and "w1" in found[0].found


def test_shared_virtual_bridge_macs_are_ignored() -> None:
    bridge = Nic("docker0", "02:42:00:00:00:01", ("172.17.0.1/16",))
    assert findings_for("w2", nics=(Nic("eth0", "52:54:00:00:00:22", ("10.0.0.22/24",)), bridge)) == []


def test_control_plane_cpus() -> None:
    found = findings_for("cp1", cpus=1)
    assert codes(found) == [("error", "cpus")]
    assert "2 CPUs" in found[0].why


def test_control_plane_memory_uses_kubeadm_threshold() -> None:
    assert codes(findings_for("cp1", memory_mb=1699)) == [("error", "memory")]
    assert findings_for("cp1", memory_mb=1700) == []


def test_small_workers_pass() -> None:
    assert findings_for("w1", cpus=1, memory_mb=900) == []


def test_unreadable_resources_are_not_guessed() -> None:
    assert findings_for("cp1", cpus=0, memory_mb=0) == []


def test_unsupported_os() -> None:
    found = findings_for("w1", os=OsInfo("arch", "rolling"))
    assert codes(found) == [("error", "os-unsupported")]
    assert "ubuntu-22.04" in found[0].fix


def test_unknown_os() -> None:
    found = findings_for("w1", os=OsInfo("unknown", ""))
    assert "os-release" in found[0].found


def test_os_in_file_differs_from_detected() -> None:
    spec = spec_of(nodes=[
        {"name": "cp1", "address": IPS["cp1"], "role": "control-plane", "os": "rocky-9"},
        {"name": "w1", "address": IPS["w1"]}, {"name": "w2", "address": IPS["w2"]},
    ])
    assert codes(findings_for("cp1", spec)) == [("warning", "os-mismatch")]


def test_cgroup_v1_is_an_error_from_135() -> None:
    found = findings_for("w1", cgroup_version=1)
    assert codes(found) == [("error", "cgroup-v1")]
    assert "failCgroupV1: false" in found[0].fix


def test_cgroup_v1_with_fail_cgroup_v1_false_is_a_warning() -> None:
    spec = spec_of(kubernetes={"failCgroupV1": False})
    assert codes(findings_for("w1", spec, cgroup_version=1)) == [("warning", "cgroup-v1")]


def test_cgroup_v1_before_135_is_fine() -> None:
    assert findings_for("w1", spec_of(kubernetes={"version": "1.34"}), cgroup_version=1) == []


def test_swap_is_a_warning() -> None:
    found = findings_for("w1", swap_kb=2 * 1024 * 1024)
    assert codes(found) == [("warning", "swap")]
    assert "2048 MB" in found[0].found and "swap step" in found[0].fix


def test_clock_skew_against_the_others() -> None:
    found = findings_for("w2", epoch=1_800_000_000.0 - 42)
    assert codes(found) == [("warning", "clock-skew")]
    assert "42 s behind" in found[0].found


def test_clock_skew_is_an_error_when_time_is_left_alone() -> None:
    spec = spec_of(hostPrep={"timeServers": []})
    assert codes(findings_for("w2", spec, epoch=1_800_000_000.0 + 9)) == [("error", "clock-skew")]


def test_small_skew_and_unknown_clocks_pass() -> None:
    assert findings_for("w2", epoch=1_800_000_000.0 + 4) == []
    assert findings_for("w2", epoch=0.0) == []


def test_missing_internal_ip_lists_the_node_addresses() -> None:
    spec = spec_of(nodes=[
        {"name": "cp1", "address": "203.0.113.10", "role": "control-plane"},
        {"name": "w1", "address": IPS["w1"]}, {"name": "w2", "address": IPS["w2"]},
    ])
    found = findings_for("cp1", spec)
    assert codes(found) == [("error", "internal-ip-missing")]
    assert "203.0.113.10" in found[0].found
    assert "10.0.0.11, 172.17.0.1" in found[0].fix


def test_internal_ip_not_on_the_node() -> None:
    spec = spec_of(nodes=[
        {"name": "cp1", "address": "203.0.113.10", "internalIP": "10.9.9.9", "role": "control-plane"},
        {"name": "w1", "address": IPS["w1"]}, {"name": "w2", "address": IPS["w2"]},
    ])
    assert codes(findings_for("cp1", spec)) == [("error", "internal-ip-not-local")]


def test_nat_node_with_internal_ip_passes() -> None:
    spec = spec_of(nodes=[
        {"name": "cp1", "address": "203.0.113.10", "internalIP": IPS["cp1"], "role": "control-plane"},
        {"name": "w1", "address": IPS["w1"]}, {"name": "w2", "address": IPS["w2"]},
    ])
    assert findings_for("cp1", spec) == []


def test_no_addresses_at_all_is_a_warning() -> None:
    assert codes(findings_for("w1", nics=())) == [("warning", "no-addresses")]


def test_loopback_and_link_local_are_not_offered() -> None:
    nics = (Nic("eth0", "52:54:00:00:00:77", ("10.0.0.77/24", "fe80::1/64")), Nic("lo", "", ("127.0.0.1/8",)))
    found = findings_for("w1", nics=nics)
    assert found[0].fix == "set internalIP to one of 10.0.0.77 in the file"


@pytest.mark.parametrize(
    ("modules", "code"),
    [(("overlay",), "module-br-netfilter"), (("br_netfilter",), "module-overlay")],
)
def test_missing_kernel_modules(modules: tuple[str, ...], code: str) -> None:
    assert codes(findings_for("w1", modules=modules)) == [("error", code)]


def test_ip_vs_needed_only_for_ipvs() -> None:
    assert findings_for("w1", modules=("overlay", "br_netfilter")) == []
    spec = spec_of(network={"proxyMode": "ipvs"})
    assert codes(findings_for("w1", spec, modules=("overlay", "br_netfilter"))) == [("error", "module-ip-vs")]


def test_containerd_1_with_136_is_replaced() -> None:
    spec = spec_of(kubernetes={"version": "1.36"})
    found = findings_for("w1", spec, runtime="containerd 1.7.24")
    assert codes(found) == [("warning", "containerd-1")]
    assert findings_for("w1", spec, runtime="containerd 2.1.0") == []
    assert findings_for("w1", runtime="containerd 1.7.24") == []


def test_installed_packages() -> None:
    newer = findings_for("w1", kube_packages={"kubeadm": "1.36.1"})
    assert codes(newer) == [("error", "kube-package-newer")]
    older = findings_for("w1", kube_packages={"kubelet": "1.34.2", "kubeadm": "1.35.3"})
    assert codes(older) == [("warning", "kube-package-other")]
    assert findings_for("w1", kube_packages={"kubeadm": "garbage"}) == []


def test_firewall_and_selinux_left_alone() -> None:
    spec = spec_of(hostPrep={"firewall": "leave", "selinux": "leave"})
    found = findings_for("w1", spec, firewall="firewalld", selinux="enforcing")
    assert codes(found) == [("warning", "firewall"), ("warning", "selinux")]
    assert findings_for("w1", firewall="firewalld", selinux="enforcing") == []


def test_errors_come_first_and_order_is_stable() -> None:
    facts = all_facts(cp1=replace(healthy("cp1"), swap_kb=1024, cpus=1, memory_mb=512, cgroup_version=1))
    first = evaluate(spec_of(), "cp1", facts)
    expected = [("error", "cgroup-v1"), ("error", "cpus"), ("error", "memory"), ("warning", "swap")]
    assert codes(first) == expected
    assert evaluate(spec_of(), "cp1", dict(reversed(list(facts.items())))) == first
    assert blocking(first) and not blocking(first[-1:])


def test_finding_text_reads_as_one_line() -> None:
    finding = findings_for("cp1", cpus=1)[0]
    assert finding.text == ("1 CPU: kubeadm needs at least 2 CPUs on a control-plane node. "
                            "Fix: give the machine 2 or more CPUs")
    assert str(finding).startswith("error: cp1: 1 CPU")


def test_facts_of_nodes_not_in_the_file_are_ignored() -> None:
    facts = all_facts(stranger=replace(healthy("w1"), hostname="x"))
    assert evaluate(spec_of(), "w1", facts) == []
