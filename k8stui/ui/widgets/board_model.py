"""What the install board shows, folded from engine events; plain Python, so it is tested without Textual.

The board outlives one run: a retry re-runs a few steps of a few nodes, so a later RunStarted merges
its steps into each node's list instead of replacing it (the pane keeps "done / total" of the whole plan).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from k8stui.engine.events import (
    EngineEvent,
    NodeConnected,
    NodeFinished,
    NodePlanned,
    RunFinished,
    RunStarted,
    Status,
    StepFinished,
    StepProgress,
    StepResult,
    StepStarted,
    Summary,
)
from k8stui.model.cluster import ClusterSpec


class NodeState(str, Enum):
    """A pane's look: one CSS class per value (`-running`, `-failed` ...)."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"


@dataclass
class NodeRow:
    """One node: its planned steps, their results, and what it is doing now."""

    name: str
    role: str
    steps: list[str] = field(default_factory=list)
    results: dict[str, StepResult] = field(default_factory=dict)
    running: str = ""  # the step in flight, "" when none
    index: int = 0  # 1-based position of `running` among this run's steps
    progress: str = ""  # the latest ::k8stui-progress:: text of the running step
    started: float | None = None
    finished: float | None = None
    connected: str = ""

    @property
    def done(self) -> int:
        return sum(1 for step in self.steps if step in self.results and self.results[step].status.done)

    @property
    def failure(self) -> StepResult | None:
        """The failed step to retry (the first one in plan order)."""
        failed = (self.results.get(step) for step in self.steps)
        return next((r for r in failed if r is not None and r.status is Status.FAILED), None)

    @property
    def state(self) -> NodeState:
        if self.failure is not None:
            return NodeState.FAILED
        if self.running or (self.started is not None and self.finished is None):
            return NodeState.RUNNING  # between two steps too: a class flip per step costs a restyle
        if self.steps and self.done == len(self.steps):
            return NodeState.DONE
        if any(r.status in (Status.BLOCKED, Status.CANCELLED) for r in self.results.values()):
            return NodeState.BLOCKED
        return NodeState.PENDING

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        end = self.finished if self.finished is not None and not self.running else now
        return max(0.0, end - self.started)


@dataclass
class BoardModel:
    """Every node of the cluster, the run's times and, once it ended, its summary."""

    cluster: str
    rows: dict[str, NodeRow]
    started: float | None = None
    finished: float | None = None
    running: bool = False
    runs: int = 0
    summary: Summary | None = None

    @classmethod
    def for_spec(cls, spec: ClusterSpec) -> BoardModel:
        return cls(spec.name, {n.name: NodeRow(n.name, n.role) for n in spec.nodes})

    def counts(self) -> dict[NodeState, int]:
        found = {state: 0 for state in NodeState}
        for row in self.rows.values():
            found[row.state] += 1
        return found

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return max(0.0, (now if self.running else (self.finished or now)) - self.started)

    def apply(self, event: EngineEvent) -> set[str]:
        """Fold one event in; returns the names of the nodes whose pane must be redrawn."""
        if isinstance(event, RunStarted):
            return self._run_started(event)
        if isinstance(event, RunFinished):
            self.running, self.finished, self.summary = False, event.at, event.summary
            return set()
        row = self.rows.get(_node_of(event))
        if row is None:
            return set()
        _apply_to_row(row, event, merge=self.runs > 1)
        return {row.name}

    def _run_started(self, event: RunStarted) -> set[str]:
        self.runs += 1
        self.running, self.finished, self.summary = True, None, None
        if self.started is None:
            self.started = event.at
        for node, steps in event.steps.items():
            row = self.rows.setdefault(node, NodeRow(node, "worker"))
            row.steps = _merge(row.steps, steps) if self.runs > 1 else list(steps)
            for step in steps:
                row.results.pop(step, None)  # runs again: pending until it finishes
            row.finished = None
        return set(event.steps)


def _node_of(event: EngineEvent) -> str:
    if isinstance(event, StepFinished):
        return event.result.node
    return str(getattr(event, "node", ""))


def _apply_to_row(row: NodeRow, event: EngineEvent, merge: bool) -> None:
    if isinstance(event, StepStarted):
        row.running, row.index, row.progress = event.step, event.index, ""
        if row.started is None:
            row.started = event.at
    elif isinstance(event, StepFinished):
        row.results[event.result.step] = event.result
        if row.running == event.result.step:
            row.running, row.progress = "", ""
    elif isinstance(event, StepProgress) and event.step == row.running:
        row.progress = event.text
    elif isinstance(event, NodePlanned):
        row.steps = _merge(row.steps, event.steps) if merge else list(event.steps)
    elif isinstance(event, NodeConnected):
        row.connected = event.detail
    elif isinstance(event, NodeFinished):
        row.running, row.finished = "", event.at


def _merge(known: list[str], new: tuple[str, ...]) -> list[str]:
    """`known` plus the steps of `new` it lacks, each after its predecessor in `new`."""
    merged = list(known)
    for i, step in enumerate(new):
        if step not in merged:
            after = next((merged.index(s) for s in reversed(new[:i]) if s in merged), -1)
            merged.insert(after + 1, step)
    return merged


def clock_text(seconds: float) -> str:
    """`42s`, `3:07`, `1:02:03`: short enough for a pane's border."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
