"""The board's model and the engine bridge, without Textual's event loop."""

from __future__ import annotations

from board_support import FAILED_NODE, FAILED_STEP, NOW, T0, failed_run, lab_spec, steps_of

from k8stui.engine.events import NodePlanned, RunStarted, Status, StepFinished, StepOutput, StepResult
from k8stui.ui.engine_bridge import EngineBridge, EngineEvents, OutputReady
from k8stui.ui.widgets.board_model import BoardModel, NodeState, _merge, clock_text
from k8stui.ui.widgets.node_pane import status_text


def folded() -> BoardModel:
    model = BoardModel.for_spec(lab_spec())
    for event in failed_run():
        model.apply(event)
    return model


def test_failed_run_states_counts_and_times() -> None:
    model = folded()
    states = {name: row.state for name, row in model.rows.items()}
    assert states == {"cp-1": NodeState.RUNNING, "node-1": NodeState.RUNNING, "node-2": NodeState.DONE,
                      FAILED_NODE: NodeState.FAILED}
    assert model.counts()[NodeState.FAILED] == 1
    failed = model.rows[FAILED_NODE]
    assert failed.failure is not None and failed.failure.step == FAILED_STEP
    assert model.elapsed(NOW) == 75.0
    assert model.rows["node-2"].elapsed(NOW) == 40.0  # stopped at NodeFinished
    assert model.rows["cp-1"].progress.startswith("2/4 [init]")


def test_status_lines_put_progress_first() -> None:
    model = folded()
    cp = steps_of(lab_spec())["cp-1"]
    expected = f"▶ {cp.index('init')}/{len(cp)} init · 2/4 [init] Using Kubernetes version: v1.34.6"
    assert status_text(model.rows["cp-1"]) == expected
    worker = steps_of(lab_spec())[FAILED_NODE]
    failed = f"✗ {worker.index(FAILED_STEP)}/{len(worker)} containerd failed · exited with code 1"
    assert status_text(model.rows[FAILED_NODE]).startswith(failed)
    assert status_text(model.rows["node-2"]) == f"✓ {len(worker)}/{len(worker)} done"


def test_a_retry_merges_its_steps_and_clears_the_failure() -> None:
    model = folded()
    full = list(model.rows[FAILED_NODE].steps)
    model.apply(RunStarted("lab", (FAILED_NODE,), {FAILED_NODE: ("facts", FAILED_STEP, "join")}, at=NOW))
    row = model.rows[FAILED_NODE]
    assert row.steps == full  # the whole plan stays: done/total keeps meaning the node
    assert row.failure is None and row.state is NodeState.RUNNING  # in the run again
    model.apply(NodePlanned(FAILED_NODE, ("facts", FAILED_STEP, "join")))
    assert row.steps == full
    model.apply(StepFinished(StepResult(FAILED_NODE, FAILED_STEP, Status.OK, 0, NOW, NOW + 1)))
    assert row.done == len(full) - 2  # facts and join run again too


def test_first_run_replan_replaces_the_steps() -> None:
    model = BoardModel.for_spec(lab_spec())
    model.apply(RunStarted("lab", ("cp-1",), {"cp-1": ("facts", "preflight", "swap")}, at=T0))
    model.apply(NodePlanned("cp-1", ("facts", "preflight", "selinux", "swap")))
    assert model.rows["cp-1"].steps == ["facts", "preflight", "selinux", "swap"]


def test_merge_keeps_order() -> None:
    assert _merge(["a", "c"], ("a", "b", "c", "d")) == ["a", "b", "c", "d"]
    assert _merge([], ("x",)) == ["x"]


def test_clock_text() -> None:
    assert [clock_text(s) for s in (0, 42.9, 187, 3723)] == ["0s", "42s", "3:07", "1:02:03"]


class Target:
    """Stands in for the board: records what the bridge posts."""

    def __init__(self) -> None:
        self.posted: list[object] = []

    def post_message(self, message: object) -> bool:
        self.posted.append(message)
        return True


def test_bridge_batches_events_and_caps_pending_lines() -> None:
    bridge = EngineBridge(pending_lines=5)
    target = Target()
    bridge._target = target  # type: ignore[assignment]  # no timer: flushes by hand
    events = failed_run()
    for event in events:
        bridge(event)
    for i in range(20):
        bridge(StepOutput("cp-1", "init", (("out", f"burst {i}"),)))
    bridge.flush()
    structural = [e for e in events if not isinstance(e, StepOutput)]
    assert [type(m) for m in target.posted] == [EngineEvents, OutputReady]
    assert target.posted[0].events == tuple(structural)  # type: ignore[attr-defined]
    assert bridge.take("cp-1") == [f"burst {i}" for i in range(15, 20)]
    assert bridge.take("cp-1") == []
    assert bridge.line_counts["cp-1"] > 20  # every line is counted even when the tail drops it
    target.posted.clear()
    for node in bridge.waiting():
        bridge.take(node)
    bridge.flush()
    assert target.posted == []  # nothing new: nothing posted


def test_output_ready_replaces_itself() -> None:
    assert OutputReady().can_replace(OutputReady())
    assert not OutputReady().can_replace(EngineEvents(()))
