"""Host-preparation step templates: what they render per OS (structure, ports, keys, hosts block).

The shell logic itself runs for real in test_hostprep_bash.py; the shellcheck gate is test_shellcheck.py.
"""

from __future__ import annotations

import pytest
from hostprep_helpers import DEB, EL, NODES, make_spec, planned_ids, script

from k8stui.model.cluster import ClusterSpec
from k8stui.recipes.ports import ports_for


@pytest.mark.parametrize(("os_name", "installer"), [("centos-7", "yum install"), ("rocky-9", "dnf install"),
                                                    *[(d, "apt-get install") for d in DEB]])
def test_package_manager_per_distro(os_name: str, installer: str) -> None:
    text = script("timesync", os_name, spec=make_spec(network={"proxyMode": "ipvs"}))
    assert installer in text
    for other in {"yum install", "dnf install", "apt-get install"} - {installer}:
        assert other not in text


@pytest.mark.parametrize("os_name", EL + DEB)
def test_chrony_service_config_and_servers(os_name: str) -> None:
    spec = make_spec(prep={"timeServers": ["ntp.aliyun.com", "ntp.ntsc.ac.cn"]})
    text = script("timesync", os_name, spec=spec)
    if os_name in EL:
        assert "CHRONY_SERVICE=chronyd" in text and "CHRONY_CONF=/etc/chrony.conf" in text
    else:
        assert "CHRONY_SERVICE=chrony\n" in text and "CHRONY_CONF=/etc/chrony/chrony.conf" in text
    assert "printf 'server %s iburst\\n' ntp.aliyun.com" in text
    assert "printf 'server %s iburst\\n' ntp.ntsc.ac.cn" in text


def test_chrony_default_sources_are_left_alone() -> None:
    text = script("timesync", "rocky-9")
    assert "iburst" not in text and "block_set" not in text.split("apply() {")[1]
    assert "timesync" not in planned_ids("rocky-9", spec=make_spec(prep={"timeServers": []}))


@pytest.mark.parametrize(("os_name", "conntrack"), [
    ("centos-7", "conntrack-tools"), ("rocky-9", "conntrack-tools"),
    ("debian-12", "conntrack"), ("ubuntu-24.04", "conntrack"),
])
def test_ipvs_packages_and_modules(os_name: str, conntrack: str) -> None:
    text = script("ipvs", os_name, spec=make_spec(network={"proxyMode": "ipvs"}))
    assert f"IPVS_PACKAGES=(ipset ipvsadm {conntrack})" in text
    assert "ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh" in text and "nf_conntrack_ipv4" in text
    assert "/etc/modules-load.d/ipvs.conf" in text
    assert "ipvs" not in planned_ids(os_name)


def test_selinux_only_on_the_rhel_family() -> None:
    for os_name in EL:
        assert "selinux" in planned_ids(os_name)
        assert "selinux" not in planned_ids(os_name, spec=make_spec(prep={"selinux": "leave"}))
    for os_name in DEB:
        assert "selinux" not in planned_ids(os_name)


def _opened(text: str) -> set[str]:
    lines = [ln.strip() for ln in text.splitlines()]
    add_port = "firewall-cmd --permanent --add-port="
    ports = {ln.split("--add-port=")[1].split()[0] for ln in lines if ln.startswith(add_port)}
    protocols = {ln.split("--add-protocol=")[1].split()[0] for ln in lines if "--add-protocol=" in ln}
    return ports | {f"proto {p}" for p in protocols}


def test_open_ports_control_plane_calico() -> None:
    spec = make_spec(network={"cni": "calico"}, prep={"firewall": "open-ports"})
    text = script("firewall", "rocky-9", "cp1", spec)
    assert _opened(text) == {"6443/tcp", "2379-2380/tcp", "10250/tcp", "10259/tcp", "10257/tcp",
                             "179/tcp", "4789/udp", "5473/tcp", "proto 4"}
    assert "ufw allow 2379:2380/tcp >/dev/null" in text
    assert "printf -- '-A ufw-before-input -p %s -j ACCEPT\\n' 4" in text


def test_open_ports_worker_flannel() -> None:
    text = script("firewall", "ubuntu-22.04", "w1", make_spec(prep={"firewall": "open-ports"}))
    assert _opened(text) == {"10250/tcp", "10256/tcp", "30000-32767/tcp", "30000-32767/udp", "8472/udp"}
    assert "6443" not in text and "ufw-before-input" not in text


def test_untainted_control_plane_also_opens_worker_ports() -> None:
    spec = make_spec(kubernetes={"untaintControlPlane": True}, prep={"firewall": "open-ports"})
    assert {"6443/tcp", "10256/tcp", "30000-32767/udp"} <= _opened(script("firewall", "rocky-9", "cp1", spec))


def test_ports_table() -> None:
    worker = {(p.proto, p.range) for p in ports_for("worker", "calico")}
    assert ("ip", "4") in worker and ("tcp", "6443") not in worker
    plane = ports_for("control-plane", "none")
    assert [p.label for p in plane][:2] == ["TCP 6443", "TCP 2379-2380"]
    assert len({(p.proto, p.range) for p in ports_for("control-plane", "flannel", workloads=True)}) == 9


def test_firewall_disable_and_leave() -> None:
    text = script("firewall", "rocky-9")
    assert "systemctl stop firewalld" in text and "systemctl disable firewalld" in text
    assert "ufw disable" in text
    assert "--add-port" not in text
    assert "firewall" not in planned_ids("rocky-9", spec=make_spec(prep={"firewall": "leave"}))


@pytest.mark.parametrize("disable_ipv6", [False, True])
def test_kernel_sysctls(disable_ipv6: bool) -> None:
    text = script("kernel", "debian-12", spec=make_spec(prep={"disableIPv6": disable_ipv6}))
    for key in ("net.bridge.bridge-nf-call-iptables=1", "net.bridge.bridge-nf-call-ip6tables=1",
                "net.ipv4.ip_forward=1"):
        assert key in text
    assert ("net.ipv6.conf.all.disable_ipv6=1" in text) is disable_ipv6
    assert ("net.ipv6.conf.default.disable_ipv6=1" in text) is disable_ipv6
    assert "MODULES=(overlay br_netfilter)" in text and "sysctl --system" in text


def _hosts_lines(text: str) -> list[str]:
    body = text.split("hosts_block() {")[1].split("\n}\n")[0]
    return [ln.strip() for ln in body.splitlines() if ln.strip().startswith("printf")]


def test_hosts_block_lists_every_node_and_maps_the_endpoint_on_control_planes() -> None:
    expected = {"10.0.0.11 cp1", "10.0.0.12 cp2", "10.0.0.21 w1"}
    for node, own_ip in (("cp1", "10.0.0.11"), ("cp2", "10.0.0.12")):
        lines = {ln.replace("printf '%s %s\\n' ", "") for ln in _hosts_lines(script("hostname", node=node))}
        assert lines == expected | {f"{own_ip} k8s-api.internal"}
    worker = {ln.replace("printf '%s %s\\n' ", "") for ln in _hosts_lines(script("hostname", node="w1"))}
    assert worker == expected


def test_ip_endpoint_is_not_mapped_and_the_probe_asks_for_a_name() -> None:
    spec = make_spec(kubernetes={"controlPlaneEndpoint": "192.0.2.100:6443"})
    assert len(_hosts_lines(script("hostname", node="cp1", spec=spec))) == 3
    probe = script("endpoint-probe", "ubuntu-22.04", "cp1", spec)
    assert "make controlPlaneEndpoint a DNS name" in probe and "ENDPOINT_HOST=192.0.2.100" in probe
    assert "endpoint-probe" not in planned_ids("ubuntu-22.04", "cp2", spec)


def test_endpoint_probe_only_with_an_endpoint() -> None:
    spec = ClusterSpec.model_validate({"nodes": NODES[:1] + NODES[2:]})
    assert "endpoint-probe" not in planned_ids("rocky-9", spec=spec)
    assert "hosts_block" in script("hostname", "rocky-9", spec=spec)
