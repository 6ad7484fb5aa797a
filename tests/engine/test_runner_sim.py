"""The Runner over real SSH sessions against simulated nodes (k8stui.sim), in-process."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from k8stui.engine.events import Status, StepFinished, StepStarted
from k8stui.engine.runner import Runner
from k8stui.engine.ssh import ConnectOptions, NodeSession, Secrets
from k8stui.engine.state import RunState
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.recipes import plan as plan_module
from k8stui.sim.cluster import Fault, SimCluster


def runner(spec: ClusterSpec, tmp_path: Path, events: list, **kw) -> Runner:
    options = ConnectOptions(ssh_config=False, agent=False, connect_timeout=10)

    def session(node: NodeSpec) -> NodeSession:
        return NodeSession(node, spec.ssh_for(node), secrets=Secrets(), options=options)
    state = RunState.open(spec.name, tmp_path / "state")
    return Runner(spec, state=state, session_factory=session, on_event=events.append, **kw)


def results(events: list) -> dict[tuple[str, str], Status]:
    return {(e.result.node, e.result.step): e.result for e in events if isinstance(e, StepFinished)}


@pytest.fixture
def short_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    """`swap` times out after 1 s (the catalog's 60 s would make a hang test slow)."""
    catalog = tuple(dataclasses.replace(s, timeout=1.0) if s.id == "swap" else s for s in plan_module.CATALOG)
    monkeypatch.setattr(plan_module, "CATALOG", catalog)


async def test_install_then_rerun_converges(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=2, speed=30) as sim:
        events: list = []
        summary = await runner(sim.spec, tmp_path, events).run()
        assert summary.ok, summary.failures
        assert summary.node_status == {"cp-1": "Ready", "node-1": "Ready", "node-2": "Ready"}
        assert summary.ca_hash == sim.ca_hash and summary.smoke_result == "passed"
        again: list = []
        assert (await runner(sim.spec, tmp_path, again).run()).ok
        changed = [k for k, r in results(again).items() if r.status is Status.OK and k[1] != "preflight"]
        # Read-only and local steps (facts, the port check, ...) run again by design.
        read_only = {s.id for s in plan_module.CATALOG if not s.changes or s.kind.value == "local"}
        assert all(step in read_only for _, step in changed), changed


async def test_hang_times_out_kills_remote_and_isolates(tmp_path: Path, short_swap: None) -> None:
    faults = {("node-1", "swap"): Fault("hang")}
    async with await SimCluster.start(tmp_path / "sim", workers=2, speed=30, faults=faults) as sim:
        events: list = []
        summary = await asyncio.wait_for(runner(sim.spec, tmp_path, events).run(), 60)
        done = results(events)
        assert done[("node-1", "swap")].status is Status.FAILED
        assert done[("node-1", "swap")].message == "timed out after 1s"
        assert done[("node-1", "join")].status is Status.BLOCKED
        assert done[("node-2", "join")].status is Status.OK
        assert not sim.node("node-1").running  # the remote process did not outlive its timeout
        assert [f.step for f in summary.failures] == ["swap"]


async def test_cancel_stops_the_remote_step(tmp_path: Path) -> None:
    faults = {("node-1", "kernel"): Fault("hang")}
    async with await SimCluster.start(tmp_path / "sim", workers=1, speed=30, faults=faults) as sim:
        events: list = []
        run = runner(sim.spec, tmp_path, events)
        task = asyncio.create_task(run.run())
        for _ in range(500):
            if any(isinstance(e, StepStarted) and (e.node, e.step) == ("node-1", "kernel") for e in events):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        run.cancel()
        summary = await asyncio.wait_for(task, 30)
        assert summary.cancelled
        assert results(events)[("node-1", "kernel")].status is Status.CANCELLED
        for _ in range(100):  # the kill travels over SSH; give it a moment
            if not sim.node("node-1").running:
                break
            await asyncio.sleep(0.05)
        assert not sim.node("node-1").running


async def test_many_nodes_few_slots(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=9, speed=60) as sim:
        events: list = []
        summary = await asyncio.wait_for(runner(sim.spec, tmp_path, events, concurrency=3).run(), 120)
        assert summary.ok, summary.failures
        assert len(summary.node_status) == 10
