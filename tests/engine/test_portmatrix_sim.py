"""The port matrix through the engine on simulated nodes: a dropped port stops the node that must open it.

The simulated network is open unless a pair is blocked (`SimCluster.block_port`); the steps' per-node
outputs travel through the runner as `name@node`, and the local port-matrix step judges them.
"""

from __future__ import annotations

import json
from pathlib import Path

from test_cli_apply import k8stui, sim_host
from test_runner_sim import results, runner

from k8stui.engine.events import Status
from k8stui.sim.cluster import SimCluster


async def test_a_dropped_api_port_stops_the_control_plane_before_init(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=2, speed=50) as sim:
        sim.block_port("node-1", "cp-1", "tcp/6443")
        events: list = []
        run = runner(sim.spec, tmp_path, events)
        summary = await run.run()
        done = results(events)
        failed = done[("cp-1", "port-matrix")]
        assert failed.status is Status.FAILED
        assert failed.message.startswith("TCP 6443 on cp-1 is blocked from node-1 (10.77.0.12)")
        assert done[("cp-1", "init")].status is Status.BLOCKED
        assert done[("node-1", "port-matrix")].status is Status.OK  # the fix is on cp-1's side
        assert done[("node-2", "port-matrix")].status is Status.OK
        assert not summary.ok
        assert "ports_probe@node-1" in run.state.outputs and "ports_listen@cp-1" in run.state.outputs
        log = (run.state.logs_dir / "cp-1.log").read_text()
        assert "cp-1           TCP 6443" in log and "node-1 BLOCKED" in log
        assert "firewall-cmd --permanent --add-port=6443/tcp" in log


async def test_a_dropped_nodeport_is_a_warning_that_can_be_acknowledged(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=1, speed=50) as sim:
        sim.block_port("cp-1", "node-1", "udp/30000")
        events: list = []
        summary = await runner(sim.spec, tmp_path, events).run()
        assert summary.ok, summary.failures
        assert results(events)[("node-1", "port-matrix")].message == "1 warning(s)"
        again: list = []
        acked = runner(sim.spec, tmp_path, again, acknowledged_warnings=["port-blocked-optional"])
        assert (await acked.run()).ok
        assert results(again)[("node-1", "port-matrix")].message == ""
        recorded = json.loads(acked.state.outputs["acknowledged_warnings"])
        assert recorded == ["port-blocked-optional"]


def test_apply_prints_the_blocked_pairs_and_the_rule(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sim_host(tmp_path, "--workers", "1", "--block", "cp-1:node-1:udp/8472") as cluster:
        done = k8stui(tmp_path, "apply", "-f", str(cluster), "--yes", "--state-dir", str(state))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "port matrix: 1 blocked, 0 not tested of " in done.stdout
    assert "node-1         UDP 8472   flannel VXLAN              <- cp-1 BLOCKED" in done.stdout
    assert "fix: allow inbound UDP 8472 on node-1 from 10.77.0.11" in done.stdout
    assert "failed: node-1 port-matrix: UDP 8472 on node-1 is blocked from cp-1" in done.stdout
