"""The port matrix in pure Python: what each node must accept, what to probe, what the results mean."""

from __future__ import annotations

from typing import Any

from k8stui.model.cluster import ClusterSpec
from k8stui.recipes import portmatrix as pm
from k8stui.recipes.portmatrix import ALIVE, LISTEN, PROBE, Cell, node_key


def make(cni: str = "flannel", firewall: str = "disable", **kubernetes: Any) -> ClusterSpec:
    return ClusterSpec.model_validate({
        "name": "pm",
        "kubernetes": {"version": "1.35.3", **kubernetes},
        "network": {"cni": cni},
        "hostPrep": {"firewall": firewall},
        "nodes": [
            {"name": "cp1", "address": "203.0.113.10", "internalIP": "10.0.0.11", "role": "control-plane"},
            {"name": "cp2", "address": "10.0.0.12", "role": "control-plane"},
            {"name": "w1", "address": "10.0.0.21", "role": "worker"},
        ],
    })


def keys(spec: ClusterSpec, node: str) -> list[str]:
    return [c.key for c in pm.checks_for(spec, spec.node(node))]


def all_open(spec: ClusterSpec, until: int = 4_000_000_000) -> dict[str, str]:
    """Outputs as if every listener started and every probe connected."""
    outputs = {}
    for node in spec.nodes:
        states = " ".join(f"{k}=listening" for k in keys(spec, node.name))
        outputs[node_key(LISTEN, node.name)] = f"until={until} tool=python3 {states}"
        outputs[node_key(ALIVE, node.name)] = " ".join(keys(spec, node.name))
    for node in spec.nodes:
        probes = pm.probes_from(spec, node.name, outputs)
        outputs[node_key(PROBE, node.name)] = " ".join(f"{p.token}=open" for p in probes)
    return outputs


def with_result(outputs: dict[str, str], source: str, token: str, result: str) -> dict[str, str]:
    key = node_key(PROBE, source)
    changed = dict(outputs)
    changed[key] = " ".join(f"{t.split('=')[0]}={result}" if t.startswith(f"{token}=") else t
                            for t in outputs[key].split())
    assert token in changed[key]
    return changed


def test_checks_sample_ranges_and_leave_out_loopback_only_ports() -> None:
    spec = make()
    assert keys(spec, "cp1") == ["tcp/6443", "tcp/2379", "tcp/2380", "tcp/10250", "udp/8472"]
    assert keys(spec, "w1") == ["tcp/10250", "tcp/10256", "tcp/30000", "tcp/32767", "udp/30000", "udp/32767",
                                "udp/8472"]


def test_untainted_control_planes_also_take_worker_ports_and_calico_adds_its_own() -> None:
    spec = make(cni="calico", untaintControlPlane=True, controlPlaneEndpoint="k8s-api.internal:6443")
    cp = keys(spec, "cp1")
    assert {"tcp/30000", "udp/32767", "tcp/10256", "tcp/179", "udp/4789", "tcp/5473"} <= set(cp)
    assert [p.label for p in pm.untestable(spec, spec.node("cp1"))] == ["IP protocol 4"]


def test_etcd_is_probed_from_control_planes_only() -> None:
    spec = make()
    outputs = all_open(spec)
    from_worker = {p.token for p in pm.probes_from(spec, "w1", outputs)}
    from_cp2 = {p.token for p in pm.probes_from(spec, "cp2", outputs)}
    assert "cp1:tcp/2379" in from_cp2 and "cp1:tcp/2379" not in from_worker
    assert "cp1:tcp/6443" in from_worker and not any(t.startswith("w1:") for t in from_worker)


def test_probes_target_the_internal_ip_and_only_ports_the_listener_holds() -> None:
    spec = make()
    outputs = all_open(spec)
    outputs[node_key(LISTEN, "cp1")] = "until=99 tool=python3 tcp/6443=in-use tcp/10250=listening"
    probes = [p for p in pm.probes_from(spec, "w1", outputs) if p.target == "cp1"]
    assert [(p.ip, p.proto, p.port, p.until) for p in probes] == [("10.0.0.11", "tcp", 10250, 99)]


def test_everything_open_means_no_findings() -> None:
    spec = make()
    outputs = all_open(spec)
    pairs = pm.build(spec, outputs)
    assert pairs and all(p.state is Cell.OPEN for p in pairs)
    assert all(pm.findings(spec, n.name, pairs) == [] for n in spec.nodes)
    assert pm.report(spec, outputs) == [f"port matrix: all {len(pairs)} node-to-node port checks open"]


def test_a_dropped_api_port_is_an_error_on_the_target_with_the_rule_to_add() -> None:
    spec = make()
    outputs = with_result(all_open(spec), "w1", "cp1:tcp/6443", "timeout")
    pairs = pm.build(spec, outputs)
    blocked = [(p.source, p.target, p.check.key) for p in pairs if p.state is Cell.BLOCKED]
    assert blocked == [("w1", "cp1", "tcp/6443")]
    [finding] = pm.findings(spec, "cp1", pairs)
    assert (finding.severity, finding.code) == ("error", "port-blocked")
    assert finding.found == "TCP 6443 on cp1 is blocked from w1 (10.0.0.21)"
    assert "no answer within 3 s" in finding.why
    assert "firewall-cmd --permanent --add-port=6443/tcp" in finding.fix
    assert "ufw allow 6443/tcp" in finding.fix
    assert "security group" in finding.fix and "from 10.0.0.21" in finding.fix
    assert pm.findings(spec, "w1", pairs) == []  # the source has nothing to fix


def test_a_blocked_nodeport_is_only_a_warning() -> None:
    spec = make()
    outputs = with_result(all_open(spec), "cp1", "w1:udp/30000", "timeout")
    [finding] = pm.findings(spec, "w1", pm.build(spec, outputs))
    assert (finding.severity, finding.code) == ("warning", "port-blocked-optional")
    assert "no echo within 3 s" in finding.why


def test_refused_is_blocked_while_the_listener_ran_and_untested_after_it_stopped() -> None:
    spec = make()
    outputs = with_result(all_open(spec), "cp2", "w1:tcp/10250", "refused")
    pair = next(p for p in pm.build(spec, outputs) if p.state is not Cell.OPEN)
    assert pair.state is Cell.BLOCKED and "firewall rejects it" in pair.reason
    outputs[node_key(ALIVE, "w1")] = "tcp/10256"
    pair = next(p for p in pm.build(spec, outputs) if p.state is not Cell.OPEN)
    assert pair.state is Cell.UNTESTED and "had already stopped" in pair.reason


def test_in_use_and_no_tool_are_reported_as_not_tested_never_open() -> None:
    spec = make()
    outputs = all_open(spec)
    outputs[node_key(LISTEN, "w1")] = "until=9 tool=none tcp/10250=in-use udp/8472=no-tool"
    pairs = [p for p in pm.build(spec, outputs) if p.target == "w1"]
    assert all(p.state is Cell.UNTESTED for p in pairs)
    found = pm.findings(spec, "w1", pairs)
    assert {f.code for f in found} == {"port-not-tested"} and {f.severity for f in found} == {"warning"}
    reasons = " ".join(f.why for f in found)
    assert "already in use on w1" in reasons and "no python or nc" in reasons


def test_missing_step_results_are_not_tested() -> None:
    spec = make()
    outputs = all_open(spec)
    del outputs[node_key(PROBE, "w1")]
    untested = [p for p in pm.build(spec, outputs) if p.source == "w1"]
    assert untested and all(p.state is Cell.UNTESTED and "ports-probe" in p.reason for p in untested)
    assert pm.report(spec, {}) == []  # no port-check step ran at all: nothing to say


def test_report_lists_only_problem_rows_and_one_rule_per_blocked_port() -> None:
    spec = make(firewall="leave")
    outputs = with_result(all_open(spec), "w1", "cp1:tcp/6443", "timeout")
    outputs = with_result(outputs, "cp2", "cp1:tcp/6443", "rejected")
    lines = pm.report(spec, outputs)
    assert lines[0].startswith("port matrix: 2 blocked, 0 not tested of ")
    rows = [line for line in lines[1:] if "<-" in line]
    assert len(rows) == 1 and "cp2 BLOCKED" in rows[0] and "w1 BLOCKED" in rows[0]
    fixes = [line for line in lines if line.startswith("  fix:")]
    assert len(fixes) == 1 and "from 10.0.0.12, 10.0.0.21" in fixes[0]
    assert "cloud rules first" not in fixes[0]  # the local firewall was left alone: it may be the cause


def test_matrix_lines_show_everything_on_the_first_control_plane_and_own_rows_elsewhere() -> None:
    spec = make(cni="calico")
    outputs = all_open(spec)
    notes, findings = pm.matrix_lines(spec, "cp1", outputs)
    assert findings == [] and any(line.split()[0] == "w1" for line in notes[1:] if "<-" in line)
    notes, _ = pm.matrix_lines(spec, "w1", outputs)
    rows = [line for line in notes[1:] if "<-" in line]
    assert rows and all(line.split()[0] == "w1" for line in rows)
    assert any("IP protocol 4" in line and "not testable" in line for line in notes)


def test_parsers_tolerate_empty_and_odd_values() -> None:
    assert pm.parse_listen(None) is None and pm.parse_listen("") is None
    assert pm.parse_probe("junk w1:tcp/1=open") == {("w1", "tcp/1"): "open"}
    assert pm.parse_alive("-") == set() and pm.parse_alive(None) is None
    assert 120 <= pm.listen_seconds(make()) <= 900


def test_a_rerun_on_installed_nodes_finds_nothing_to_report() -> None:
    spec = make()
    outputs = all_open(spec)
    for node in spec.nodes:
        states = " ".join(f"{k}=installed" for k in keys(spec, node.name))
        outputs[node_key(LISTEN, node.name)] = f"until=0 tool=none {states}"
        outputs[node_key(PROBE, node.name)] = ""  # every listener's lifetime was over: nothing probed
    pairs = pm.build(spec, outputs)
    assert {p.state for p in pairs} == {Cell.SKIPPED}
    assert all(pm.findings(spec, n.name, pairs) == [] for n in spec.nodes) and pm.report(spec, outputs) == []


def test_calico_finds_the_node_address_from_the_internal_ip_unless_a_nic_is_named() -> None:
    from k8stui.recipes import artifacts

    assert '"kubernetes-internal-ip"' in (artifacts.cni_manifest(make(cni="calico")) or "")


def test_a_node_added_later_probes_the_real_tcp_services_of_installed_nodes() -> None:
    spec = make()
    outputs = all_open(spec)
    for node in ("cp1", "cp2"):
        states = " ".join(f"{k}=installed" for k in keys(spec, node))
        outputs[node_key(LISTEN, node)] = f"until=4000000000 tool=none {states}"
    probes = {p.token for p in pm.probes_from(spec, "w1", outputs)}
    assert "cp1:tcp/6443" in probes and "cp1:udp/8472" not in probes  # UDP cannot be told apart
    outputs[node_key(PROBE, "w1")] = "cp1:tcp/6443=timeout cp1:tcp/10250=refused cp2:tcp/6443=open"
    cells = {(p.source, p.target, p.check.key): p.state for p in pm.build(spec, outputs)}
    assert cells[("w1", "cp1", "tcp/6443")] is Cell.BLOCKED
    assert cells[("w1", "cp2", "tcp/6443")] is Cell.OPEN
    assert cells[("w1", "cp1", "tcp/10250")] is Cell.SKIPPED  # refused: nothing to say about the path
    assert cells[("w1", "cp1", "udp/8472")] is Cell.SKIPPED
