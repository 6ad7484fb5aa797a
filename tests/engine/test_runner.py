"""The Runner against an in-memory session double: ordering, isolation, retry, timeouts, cancel."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from runner_fakes import FakeCluster, spec

from k8stui.engine import stepexec
from k8stui.engine.events import (
    NodePlanned,
    RunFinished,
    RunStarted,
    Status,
    StepFinished,
    StepOutput,
    StepProgress,
    StepStarted,
)
from k8stui.engine.runner import Runner
from k8stui.engine.state import RunState
from k8stui.recipes.catalog import CATALOG
from k8stui.recipes.plan import Plan

INIT_OUTPUTS = {
    "join_command": "kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef "
                    "--discovery-token-ca-cert-hash sha256:" + "ab" * 32,
    "token": "abcdef.0123456789abcdef", "ca_hash": "sha256:" + "ab" * 32,
    "certificate_key": "cd" * 32, "token_expires": "2026-11-28T14:00:00Z",
}


@pytest.fixture(autouse=True)
def scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render a tiny script naming the outputs it was given (the real templates are tested elsewhere)."""
    def render(self: Plan, planned, facts=None, outputs=None) -> str:
        os_name = self.os[planned.node]
        return f"# {planned.step.id} on {planned.node} os={os_name} outputs={sorted(outputs or {})}\n"
    monkeypatch.setattr(Plan, "render", render)
    monkeypatch.setattr(stepexec, "evaluate_preflight", lambda spec, node, facts: [])


@pytest.fixture
def fake() -> FakeCluster:
    cluster = FakeCluster(spec(workers=3))
    cluster.set("cp1", "init", outputs=INIT_OUTPUTS, lines=("token: abcdef.0123456789abcdef",))
    cluster.set("cp1", "fetch-kubeconfig", outputs={"kubeconfig_b64": "YXBpVmVyc2lvbjogdjEK"})
    cluster.set("cp1", "smoke", outputs={"smoke_result": "ok", "node_status": "cp1=Ready,w1=Ready"})
    return cluster


def make_runner(fake: FakeCluster, tmp_path: Path, **kw) -> tuple[Runner, list]:
    events: list = []
    state = RunState.open(fake.spec.name, tmp_path / "state")
    runner = Runner(fake.spec, state=state, session_factory=fake.factory, on_event=events.append, **kw)
    return runner, events


def finals(events: list) -> dict[tuple[str, str], Status]:
    return {(e.result.node, e.result.step): e.result.status for e in events if isinstance(e, StepFinished)}


async def test_full_run_every_step_ends_ok_in_order(fake: FakeCluster, tmp_path: Path) -> None:
    runner, events = make_runner(fake, tmp_path)
    summary = await runner.run()
    assert summary.ok and not summary.failures
    started = events[0]
    assert isinstance(started, RunStarted) and isinstance(events[-1], RunFinished)
    done = finals(events)
    for node, steps in started.steps.items():
        assert all(done[(node, s)] is Status.OK for s in steps), node
        order = [e.step for e in events if isinstance(e, StepStarted) and e.node == node]
        assert order == list(steps)
    for worker in ("w1", "w2", "w3"):
        assert fake.window("w1", "join")[0] >= fake.window("cp1", "init")[1]
        assert fake.window("cp1", "smoke")[0] >= fake.window(worker, "join")[1]
    assert summary.join_command == INIT_OUTPUTS["join_command"]
    assert summary.node_status == {"cp1": "Ready", "w1": "Ready"} and summary.smoke_result == "ok"


async def test_outputs_reach_later_steps_and_state(fake: FakeCluster, tmp_path: Path) -> None:
    runner, _ = make_runner(fake, tmp_path)
    summary = await runner.run()
    assert "join_command" in fake.scripts[("w2", "join")]
    data = json.loads(runner.state.path.read_text())
    assert data["outputs"]["ca_hash"] == INIT_OUTPUTS["ca_hash"]
    assert "kubeconfig_b64" not in json.dumps(data)
    kubeconfig = Path(summary.kubeconfig or "")
    assert kubeconfig.read_text() == "apiVersion: v1\n"
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert data["rows"]["w3"]["join"]["status"] == "ok"
    assert data["facts"]["w1"]["hostname"] == "w1"


async def test_markers_never_reach_logs_and_secrets_are_redacted(fake: FakeCluster, tmp_path: Path) -> None:
    fake.set("w1", "kernel", lines=("loading modules", "::k8stui-progress:: 2/3 sysctl", "sudo pw hunter22"))
    runner, events = make_runner(fake, tmp_path)
    runner.logs.redact.add("hunter22")
    await runner.run()
    shown = [text for e in events if isinstance(e, StepOutput) for _, text in e.lines]
    log = (runner.state.logs_dir / "cp1.log").read_text() + (runner.state.logs_dir / "w1.log").read_text()
    for text in (log, "\n".join(shown)):
        assert "::k8stui-" not in text
        assert "abcdef.0123456789abcdef" not in text and "hunter22" not in text
        assert "loading modules" in text
    assert any(isinstance(e, StepProgress) and e.text == "2/3 sysctl" for e in events)
    assert stat.S_IMODE(os.stat(runner.state.logs_dir / "w1.log").st_mode) == 0o600


async def test_a_slow_worker_does_not_delay_another_workers_prep(fake: FakeCluster, tmp_path: Path) -> None:
    fake.set("w1", "swap", delay=0.8)
    runner, _ = make_runner(fake, tmp_path)
    summary = await runner.run()
    assert summary.ok
    slow_end = fake.window("w1", "swap")[1]
    assert fake.window("w2", "join")[1] < slow_end
    assert fake.window("cp1", "init")[1] < slow_end
    assert fake.window("cp1", "smoke")[0] >= fake.window("w1", "join")[1]


async def test_failure_blocks_its_node_and_dependents_only(fake: FakeCluster, tmp_path: Path) -> None:
    fake.set("w2", "containerd", code=1, lines=tuple(f"line {i}" for i in range(30)))
    runner, events = make_runner(fake, tmp_path)
    summary = await runner.run()
    done = finals(events)
    assert done[("w2", "containerd")] is Status.FAILED
    assert done[("w2", "join")] is Status.BLOCKED and done[("cp1", "smoke")] is Status.BLOCKED
    assert done[("w1", "join")] is Status.OK and done[("w3", "join")] is Status.OK
    assert done[("cp1", "fetch-kubeconfig")] is Status.OK
    blocked = next(e.result for e in events
                   if isinstance(e, StepFinished) and (e.result.node, e.result.step) == ("w2", "join"))
    assert blocked.message == "containerd on w2 failed"
    [failure] = summary.failures
    assert failure.exit_code == 1 and failure.tail[-1] == "line 29" and len(failure.tail) == 20
    assert ("w2", "systemctl status containerd --no-pager") in fake.commands
    assert "diag output of" in (runner.state.logs_dir / "w2.log").read_text()
    assert not summary.ok and summary.logs["w2"].endswith("w2.log")


async def test_retry_one_step_then_continue(fake: FakeCluster, tmp_path: Path) -> None:
    fake.set("w2", "containerd", code=1)
    runner, _ = make_runner(fake, tmp_path)
    await runner.run()
    fake.set("w2", "containerd")
    before = len(fake.runs)
    summary = await runner.retry("w2", "containerd")
    assert sorted(r[1] for r in fake.runs[before:]) == ["containerd", "facts"]
    assert runner.state.status("w2", "containerd") is Status.OK
    assert runner.state.status("w2", "join") is Status.BLOCKED and not summary.ok

    before = len(fake.runs)
    state = RunState.open("lab", tmp_path / "state")  # a new process: everything from disk
    events: list = []
    again = Runner(fake.spec, state=state, session_factory=fake.factory, on_event=events.append)
    summary = await again.retry("w2", "containerd", cont=True)
    rerun = {(r[0], r[1]) for r in fake.runs[before:]}
    assert ("w2", "join") in rerun and ("cp1", "smoke") in rerun
    assert not any(node == "w1" for node, _ in rerun) and ("cp1", "init") not in rerun
    assert "join_command" in fake.scripts[("w2", "join")]
    assert summary.ok, summary.failures


async def test_retry_rejects_unplanned_step(fake: FakeCluster, tmp_path: Path) -> None:
    runner, _ = make_runner(fake, tmp_path)
    with pytest.raises(ValueError, match="not planned"):
        await runner.retry("w1", "init")


async def test_timeout_fails_the_step_and_cancels_remote(fake: FakeCluster, tmp_path: Path) -> None:
    fake.set("w3", "kube-packages", hang=True, hang_seconds=0.05)
    runner, events = make_runner(fake, tmp_path)
    summary = await runner.run()
    [failure] = summary.failures
    assert (failure.node, failure.step) == ("w3", "kube-packages")
    assert failure.message == "timed out after 900s"
    assert "w3" in fake.cancels
    assert finals(events)[("w3", "join")] is Status.BLOCKED


async def test_cancel_marks_everything_unfinished_cancelled(fake: FakeCluster, tmp_path: Path) -> None:
    fake.set("w1", "kube-packages", hang=True, hang_seconds=30)
    runner, events = make_runner(fake, tmp_path)
    task = asyncio.create_task(runner.run())
    for _ in range(200):
        if any(isinstance(e, StepStarted) and (e.node, e.step) == ("w1", "kube-packages") for e in events):
            break
        await asyncio.sleep(0.01)
    runner.cancel()
    summary = await asyncio.wait_for(task, 5)
    assert summary.cancelled and not summary.ok
    done = finals(events)
    assert done[("w1", "kube-packages")] is Status.CANCELLED and done[("w1", "join")] is Status.CANCELLED
    assert "w1" in fake.cancels
    assert set(done) == {(n, s) for n, steps in events[0].steps.items() for s in steps}
    saved = RunState.open("lab", tmp_path / "state")
    assert saved.status("w1", "kube-packages") is Status.CANCELLED


async def test_one_slot_suffices_as_waiting_nodes_give_it_back(fake: FakeCluster, tmp_path: Path) -> None:
    runner, _ = make_runner(fake, tmp_path, concurrency=1)
    summary = await asyncio.wait_for(runner.run(), 20)
    assert summary.ok
    assert fake.max_active == 1


async def test_dry_run_checks_without_applying(fake: FakeCluster, tmp_path: Path) -> None:
    fake.set("w1", "swap", done=True)
    runner, events = make_runner(fake, tmp_path, dry_run=True)
    summary = await runner.run()
    modes = {(r[0], r[1]): r[2] for r in fake.runs}
    assert modes[("w1", "facts")] == "run" and modes[("cp1", "init")] == "check"
    assert set(modes.values()) == {"run", "check"}
    results = {(e.result.node, e.result.step): e.result for e in events if isinstance(e, StepFinished)}
    assert results[("w1", "swap")].status is Status.SKIPPED
    assert results[("w1", "kernel")].would_change
    assert results[("cp1", "fetch-kubeconfig")].message == "not run in a dry run"
    assert summary.ok and summary.join_command is None
    assert runner.state.rows == {}  # nothing ran for real: the state must not say otherwise


async def test_os_from_facts_replans_the_node(tmp_path: Path) -> None:
    fake = FakeCluster(spec(workers=1), os_names={"w1": "rocky-9"})
    runner, events = make_runner(fake, tmp_path)
    await runner.run()
    [planned] = [e for e in events if isinstance(e, NodePlanned)]
    assert planned.node == "w1" and "selinux" in planned.steps
    assert finals(events)[("w1", "selinux")] is Status.OK
    assert "os=rocky-9" in fake.scripts[("w1", "kube-packages")]


async def test_unreachable_node_fails_facts_and_blocks_preflight(fake: FakeCluster, tmp_path: Path) -> None:
    fake.unreachable.add("w3")
    runner, events = make_runner(fake, tmp_path)
    summary = await runner.run()
    done = finals(events)
    assert done[("w3", "facts")] is Status.FAILED and done[("w3", "join")] is Status.BLOCKED
    assert done[("w1", "facts")] is Status.OK and done[("w1", "preflight")] is Status.BLOCKED
    assert "permission denied" in summary.failures[0].message


async def test_preflight_errors_fail_and_warnings_pass(fake: FakeCluster, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def evaluate(spec, node, facts):
        found = [SimpleNamespace(severity="warning", text="clock skew 2s")]
        if node == "w2":
            found.append(SimpleNamespace(severity="error", text="swap is on"))
        return found
    monkeypatch.setattr(stepexec, "evaluate_preflight", evaluate)
    runner, events = make_runner(fake, tmp_path)
    await runner.run()
    results = {(e.result.node, e.result.step): e.result for e in events if isinstance(e, StepFinished)}
    assert results[("w2", "preflight")].status is Status.FAILED
    assert results[("w2", "preflight")].message == "swap is on"
    assert results[("w1", "preflight")].status is Status.OK
    assert results[("w1", "preflight")].message == "1 warning(s)"
    assert "warning: clock skew 2s" in (runner.state.logs_dir / "w1.log").read_text()
    acked, events = make_runner(fake, tmp_path, acknowledged_warnings=["clock skew 2s"])
    await acked.run()
    results = {(e.result.node, e.result.step): e.result for e in events if isinstance(e, StepFinished)}
    assert results[("w1", "preflight")].message == ""
    assert "clock skew 2s (acknowledged)" in (acked.state.logs_dir / "w1.log").read_text()


async def test_only_nodes_and_steps(fake: FakeCluster, tmp_path: Path) -> None:
    runner, _ = make_runner(fake, tmp_path)
    await runner.run()
    before = len(fake.runs)
    again, _ = make_runner(fake, tmp_path, only_nodes=["w1"], only_steps=["kernel"])
    summary = await again.run()
    assert [(r[0], r[1]) for r in fake.runs[before:]] == [("w1", "facts"), ("w1", "kernel")]
    assert summary.ok
    with pytest.raises(ValueError, match="no such node"):
        await make_runner(fake, tmp_path, only_nodes=["nope"])[0].run()


async def test_a_template_error_fails_only_that_step(fake: FakeCluster, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real = Plan.render

    def render(self: Plan, planned, facts=None, outputs=None) -> str:
        if planned.key == ("w1", "kernel"):
            raise KeyError("missing_variable")
        return real(self, planned, facts, outputs)
    monkeypatch.setattr(Plan, "render", render)
    runner, events = make_runner(fake, tmp_path)
    summary = await runner.run()
    [failure] = summary.failures
    assert (failure.node, failure.step) == ("w1", "kernel")
    kernel = next(f"{i:02d}-kernel.sh" for i, s in enumerate(CATALOG) if s.id == "kernel")
    assert failure.message == f"could not render {kernel}: KeyError: 'missing_variable'"
    assert finals(events)[("w2", "join")] is Status.OK
