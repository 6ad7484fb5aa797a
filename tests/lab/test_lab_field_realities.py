"""Field realities on lab nodes, through `k8stui apply` over real SSH: a port dropped between two nodes
shows up in the port matrix as exactly that pair; an endpoint that refuses is healthy while one that
drops packets gets the load-balancer hairpin explanation; a node reached over one address keeps using
its other (internal) address for Kubernetes.

Packets are dropped with policy routing inside ONE node's namespace (`ip rule ... ipproto P sport N` to
a blackhole table): the node's replies from that port to the other node vanish, so the other side sees
exactly what a cloud security group that drops the port shows, a timeout. No extra host tools needed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from k8stui.model.cluster import ClusterSpec
from k8stui.model.load import dump_cluster
from k8stui.recipes import portmatrix
from k8stui.recipes.portmatrix import Cell

from . import e2e
from .lab import Lab, LabNode, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
DISTROS = ("rocky-9", "ubuntu-22.04")
PORT_STEPS = "ports-listen,ports-probe,ports-close,port-matrix"
# No time sync and no firewall step: the port check's barrier is then the hostname step alone.
QUIET = {"timeServers": [], "firewall": "leave"}


def drop(node: LabNode, other: LabNode, proto: str, port: int) -> None:
    """Inside `node`'s netns only: its packets from `port` to `other` go nowhere (silently)."""
    table = 100 + port % 100
    ip(node, "rule", "add", "to", other.ip, "ipproto", proto, "sport", str(port), "table", str(table))
    ip(node, "route", "replace", "blackhole", "default", "table", str(table))


def undrop(node: LabNode) -> None:
    rules = subprocess.run(["ip", "-n", node.netns, "rule", "show"], capture_output=True, text=True,
                           timeout=20).stdout
    for line in rules.splitlines():
        if "ipproto" in line:
            ip(node, "rule", "del", *line.split(":", 1)[1].split())


def ip(node: LabNode, *args: str) -> None:
    subprocess.run(["ip", "-n", node.netns, *args], check=True, capture_output=True, text=True, timeout=20)


def write(directory: Path, spec: ClusterSpec) -> Path:
    path = directory / "cluster.yaml"
    path.write_text(dump_cluster(spec))
    return path


@pytest.fixture(scope="module")
def env(lab: Any) -> Lab:
    return lab(*DISTROS)


def test_the_matrix_shows_exactly_the_dropped_pairs(env: Lab, tmp_path: Path) -> None:
    cp, worker = env.nodes
    spec = env.spec(with_os=True, hostPrep=QUIET)
    config = write(tmp_path, spec)
    drop(cp, worker, "tcp", 6443)  # worker -> cp API server
    drop(worker, cp, "udp", 8472)  # cp -> worker flannel VXLAN (no echo comes back)
    try:
        run = e2e.apply(config, tmp_path / "state", "--steps", f"hostname,{PORT_STEPS}")
    finally:
        undrop(cp)
        undrop(worker)
    assert run.code == 1, run
    outputs = e2e.run_state(tmp_path / "state")["outputs"]
    pairs = portmatrix.build(spec, outputs)
    blocked = sorted((p.source, p.target, p.check.key) for p in pairs if p.state is Cell.BLOCKED)
    assert blocked == [("lab1", "lab2", "udp/8472"), ("lab2", "lab1", "tcp/6443")], run
    assert all(p.state is Cell.OPEN for p in pairs if p.state is not Cell.BLOCKED)
    assert "port matrix: 2 blocked, 0 not tested of " in run.out, run
    assert f"fix: allow inbound TCP 6443 on lab1 from {worker.ip}" in run.out
    assert "failed: lab1 port-matrix: TCP 6443 on lab1 is blocked from lab2" in run.out
    for node in env.nodes:  # every test listener is gone, nothing holds the ports any more
        left = env.run(node, "cat /var/lib/k8stui/run/ports-listen.pid 2>/dev/null; ls /proc/*/exe -l "
                             "2>/dev/null | grep -c python || true").stdout.split()
        assert left == ["0"], (node.name, left)
    again = e2e.apply(config, tmp_path / "state", "--steps", f"hostname,{PORT_STEPS}")
    assert again.code == 0 and "port matrix: all " in again.out, again


def test_endpoint_that_refuses_is_healthy(env: Lab, tmp_path: Path) -> None:
    other = env.nodes[1]  # nothing listens there yet: a healthy LB in front of a node not yet initialised
    spec = env.spec(with_os=True, hostPrep=QUIET, kubernetes={"controlPlaneEndpoint": f"{other.ip}:6443"})
    run = e2e.apply(write(tmp_path, spec), tmp_path / "state", "--steps", "endpoint-probe")
    assert run.code == 0, run
    assert e2e.run_state(tmp_path / "state")["outputs"]["endpoint_probe"] == "refused"
    assert "connection refused, as expected before init" in e2e.node_log(tmp_path / "state", "lab1")


@pytest.mark.parametrize("endpoint", ["ip", "name"])
def test_endpoint_that_drops_gets_the_hairpin_explanation(env: Lab, tmp_path: Path, endpoint: str) -> None:
    cp, lb = env.nodes  # the "load balancer" is the other node, dropping its answers to the first
    host = lb.ip if endpoint == "ip" else "k8s-api.lab"
    if endpoint == "name":  # resolves to the LB (DNS would), not to the node itself
        assert env.run(cp, f"echo '{lb.ip} k8s-api.lab' >> /etc/hosts").returncode == 0
    spec = env.spec(with_os=True, hostPrep=QUIET, kubernetes={"controlPlaneEndpoint": f"{host}:6443"})
    drop(lb, cp, "tcp", 6443)
    try:
        run = e2e.apply(write(tmp_path, spec), tmp_path / "state", "--steps", "endpoint-probe")
    finally:
        undrop(lb)
        env.run(cp, "sed -i '/k8s-api.lab/d' /etc/hosts")
    assert run.code == 1, run
    log = e2e.node_log(tmp_path / "state", "lab1")
    assert "cannot forward a connection from one of its own" in log and "hairpin" in log, log
    if endpoint == "ip":
        assert "make controlPlaneEndpoint a DNS name" in log
    else:
        assert "control planes must resolve k8s-api.lab to themselves" in log


def test_ssh_address_and_internal_ip_stay_apart(env: Lab, tmp_path: Path) -> None:
    """lab2 is reached over its primary address; Kubernetes must use the second one (internalIP)."""
    cp, worker = env.nodes
    internal = worker.ip.rsplit(".", 1)[0] + ".112"
    ip(worker, "addr", "add", f"{internal}/24", "dev", "eth0")
    try:
        spec = env.spec(with_os=True, hostPrep=QUIET)
        spec.nodes[1].internal_ip = internal
        steps = f"preflight,hostname,{PORT_STEPS}"
        run = e2e.apply(write(tmp_path, spec), tmp_path / "state", "--steps", steps)
        hosts = env.run(cp, "cat /etc/hosts").stdout
    finally:
        ip(worker, "addr", "del", f"{internal}/24", "dev", "eth0")
    assert run.code == 0, run
    outputs = e2e.run_state(tmp_path / "state")["outputs"]
    assert "lab2:tcp/10250=open" in outputs["ports_probe@lab1"]  # probed on the internal IP ...
    probes = portmatrix.probes_from(spec, "lab1", outputs)
    assert {p.ip for p in probes} == {internal}
    assert f"{internal} lab2" in hosts and f"{worker.ip} lab2" not in hosts  # ... and named by it


def test_internal_ip_on_no_nic_stops_the_node_listing_its_addresses(env: Lab, tmp_path: Path) -> None:
    spec = env.spec(with_os=True, hostPrep=QUIET)
    spec.nodes[1].internal_ip = "192.168.77.7"
    run = e2e.apply(write(tmp_path, spec), tmp_path / "state", "--steps", "preflight,hostname")
    assert run.code == 1, run
    worker = env.nodes[1]
    assert f"internalIP 192.168.77.7 is on no NIC of this machine (it has {worker.ip})" in run.out, run
    state = e2e.run_state(tmp_path / "state")
    assert state["rows"]["lab2"]["hostname"]["status"] == "blocked"  # stopped before changing anything
