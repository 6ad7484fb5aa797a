"""Board test helpers: a scripted run (fixed times, one failed worker), a fake Runner, a host App."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from textual.app import App

import k8stui.ui
from k8stui.engine.events import (
    EngineEvent,
    NodeConnected,
    NodeFinished,
    RunFinished,
    RunStarted,
    Status,
    StepFinished,
    StepOutput,
    StepProgress,
    StepResult,
    StepStarted,
    Summary,
)
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.ui.engine_bridge import EngineBridge
from k8stui.ui.screens.board import BoardScreen

T0 = 1_790_000_000.0
NOW = T0 + 75.0  # the board's frozen clock
FAILED_NODE, FAILED_STEP = "node-3", "containerd"
JOIN = ("kubeadm join 10.0.0.11:6443 --token abcdef.0123456789abcdef "
        "--discovery-token-ca-cert-hash sha256:" + "ab" * 32)


def lab_spec(workers: int = 3) -> ClusterSpec:
    nodes = [NodeSpec(name="cp-1", address="10.0.0.11", role="control-plane")]
    nodes += [NodeSpec(name=f"node-{i}", address=f"10.0.{i // 200}.{12 + i % 200}")
              for i in range(1, workers + 1)]
    return ClusterSpec(name="lab", nodes=nodes)


# Fixed step lists, not the live catalog: the snapshots must not change whenever a step is added.
COMMON = ("facts", "preflight", "hostname", "swap", "kernel", "kube-repo", "kube-packages", "containerd")
CP_STEPS = (*COMMON, "images", "init", "kubeconfig", "cni", "fetch-kubeconfig", "smoke")
WORKER_STEPS = (*COMMON, "join")


def steps_of(spec: ClusterSpec) -> dict[str, tuple[str, ...]]:
    return {n.name: CP_STEPS if n.role == "control-plane" else WORKER_STEPS for n in spec.nodes}


def _ok(node: str, step: str, at: float) -> StepFinished:
    return StepFinished(StepResult(node, step, Status.OK, 0, at, at + 2.5), at=at + 2.5)


def _walk(node: str, steps: tuple[str, ...], upto: int, start: float) -> Iterator[EngineEvent]:
    """`upto` steps done (each 2.5 s, started at `start`), with a few output lines each."""
    yield NodeConnected(node, f"root@{node}:22", at=start)
    for index, step in enumerate(steps[:upto]):
        at = start + 2.5 * index
        yield StepStarted(node, step, index + 1, len(steps), at=at)
        lines = tuple(("out", f"[{step}] line {i} on {node}") for i in range(3))
        yield StepOutput(node, step, lines, at=at + 1)
        yield _ok(node, step, at)


def failed_run(spec: ClusterSpec | None = None) -> list[EngineEvent]:
    """cp-1 in `init`, node-1 in `kube-packages`, node-2 done, node-3 failed at containerd."""
    spec = spec or lab_spec()
    steps = steps_of(spec)
    names = [n.name for n in spec.nodes]
    events: list[EngineEvent] = [RunStarted(spec.name, tuple(names), steps, at=T0)]
    cp = steps["cp-1"]
    events += _walk("cp-1", cp, cp.index("init"), T0)
    events += [StepStarted("cp-1", "init", cp.index("init") + 1, len(cp), at=T0 + 60),
               StepProgress("cp-1", "init", "2/4 [init] Using Kubernetes version: v1.34.6", at=T0 + 61)]
    for name in names[1:]:
        events += _worker(name, steps[name])
    return events


def _worker(name: str, steps: tuple[str, ...]) -> list[EngineEvent]:
    if name == FAILED_NODE:
        return _failed_worker(name, steps)
    if name == "node-2":
        return [*_walk(name, steps, len(steps), T0), NodeFinished(name, True, at=T0 + 40)]
    at = T0 + 2.5 * steps.index("kube-packages")
    return [*_walk(name, steps, steps.index("kube-packages"), T0),
            StepStarted(name, "kube-packages", steps.index("kube-packages") + 1, len(steps), at=at)]


def _failed_worker(name: str, steps: tuple[str, ...]) -> list[EngineEvent]:
    index = steps.index(FAILED_STEP)
    at = T0 + 2.5 * index
    tail = ("Reading package lists...", "E: Unable to locate package containerd.io")
    failure = StepResult(name, FAILED_STEP, Status.FAILED, 1, at, at + 3.0, "exited with code 1", tail)
    blocked = StepResult(name, "join", Status.BLOCKED, message=f"{FAILED_STEP} on {name} failed")
    return [*_walk(name, steps, index, T0),
            StepStarted(name, FAILED_STEP, index + 1, len(steps), at=at),
            StepOutput(name, FAILED_STEP, tuple(("err", t) for t in tail), at=at + 1),
            StepFinished(failure, at=at + 3.0), StepFinished(blocked, at=at + 3.0),
            NodeFinished(name, False, at=at + 3.0)]


def summary(ok: bool = True) -> Summary:
    failures = () if ok else (StepResult(FAILED_NODE, FAILED_STEP, Status.FAILED, 1, T0, T0 + 3,
                                         "exited with code 1"),)
    status = {"cp-1": "Ready", "node-1": "Ready", "node-2": "Ready", "node-3": "Ready" if ok else "NotReady"}
    return Summary("lab", ok, JOIN, "2026-11-28T12:00:00Z", "sha256:" + "ab" * 32,
                   "/state/lab/kubeconfig", status, "passed" if ok else None, failures,
                   {n: f"/state/lab/logs/{n}.log" for n in status})


class FakeRunner:
    """What the board uses of a Runner; `retry` replays a successful retry of the failed step."""

    def __init__(self, bridge: EngineBridge, spec: ClusterSpec, logs: Path) -> None:
        self.bridge = bridge
        self.spec = spec
        self.logs = _Logs(logs)
        self.state = _State(logs.parent)
        self.session_factory = None
        self.retries: list[tuple[str, str, bool]] = []

    async def retry(self, node: str, step: str, cont: bool = False) -> Summary:
        self.retries.append((node, step, cont))
        at = NOW
        self.bridge(RunStarted(self.spec.name, (node,), {node: (step, "join")}, at=at))
        for index, name in enumerate((step, "join")):
            self.bridge(StepStarted(node, name, index + 1, 2, at=at))
            self.bridge(_ok(node, name, at))
        self.bridge(NodeFinished(node, True, at=at + 5))
        done = summary(ok=True)
        self.bridge(RunFinished(done, at=at + 5))
        return done

    def cancel(self) -> None:
        pass


class _Logs:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def path(self, node: str) -> Path:
        return self.dir / f"{node}.log"


class _State:
    def __init__(self, directory: Path) -> None:
        self.dir = directory


class HostApp(App[None]):
    """Just the stylesheet and one pushed screen: the board tests need no wizard underneath."""

    CSS_PATH = str(Path(k8stui.ui.__file__).parent / "app.tcss")

    def __init__(self, screen: BoardScreen) -> None:
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


def board_app(spec: ClusterSpec | None = None) -> tuple[HostApp, BoardScreen]:
    board = BoardScreen(spec or lab_spec(), clock=lambda: NOW)
    return HostApp(board), board


async def feed(pilot: object, board: BoardScreen, events: list[EngineEvent]) -> None:
    """Hand events to the bridge as the Runner would, flush, and let the board draw them."""
    for event in events:
        board.bridge(event)
    for _ in range(4):  # with many panes in view each flush writes a share of the tails
        board.bridge.flush()
        await pilot.pause()  # type: ignore[attr-defined]
