"""The engine's event stream: the headless printer and the TUI are two consumers of these."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    PENDING = "pending"
    WAITING = "waiting"  # for a step on another node
    RUNNING = "running"
    OK = "ok"  # applied (changed) or read-only step done
    SKIPPED = "skipped"  # its check said the effect was already in place
    FAILED = "failed"
    BLOCKED = "blocked"  # a step it needs failed or was blocked
    CANCELLED = "cancelled"

    @property
    def done(self) -> bool:
        return self in (Status.OK, Status.SKIPPED)

    @property
    def final(self) -> bool:
        return self in (Status.OK, Status.SKIPPED, Status.FAILED, Status.BLOCKED, Status.CANCELLED)


@dataclass(frozen=True)
class StepResult:
    node: str
    step: str
    status: Status
    exit_code: int | None = None
    started: float | None = None
    finished: float | None = None
    message: str = ""  # one line: why it failed / what blocked it / "would change" in a dry run
    tail: tuple[str, ...] = ()  # last lines of output, for failures
    would_change: bool = False  # dry run: the check said "not done"

    @property
    def duration(self) -> float:
        return (self.finished or 0.0) - (self.started or 0.0) if self.started else 0.0


@dataclass(frozen=True)
class Event:
    at: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True)
class RunStarted(Event):
    cluster: str
    nodes: tuple[str, ...]
    steps: dict[str, tuple[str, ...]]  # node -> planned step ids, in order
    dry_run: bool = False


@dataclass(frozen=True)
class NodePlanned(Event):
    """A node's plan changed once its facts were known (its OS adds or drops steps)."""

    node: str
    steps: tuple[str, ...]  # planned step ids, in order


@dataclass(frozen=True)
class NodeConnected(Event):
    node: str
    detail: str = ""  # "root@10.0.0.11:22 via bastion"


@dataclass(frozen=True)
class StepStarted(Event):
    node: str
    step: str
    index: int  # 1-based position among this node's planned steps
    total: int


@dataclass(frozen=True)
class StepOutput(Event):
    """A batch of output lines of one running step ('out' or 'err' stream tag per line)."""

    node: str
    step: str
    lines: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StepProgress(Event):
    node: str
    step: str
    text: str


@dataclass(frozen=True)
class StepFinished(Event):
    result: StepResult


@dataclass(frozen=True)
class NodeFinished(Event):
    node: str
    ok: bool


@dataclass(frozen=True)
class Summary:
    cluster: str
    ok: bool
    join_command: str | None = None
    token_expires: str | None = None
    ca_hash: str | None = None
    kubeconfig: str | None = None
    node_status: dict[str, str] = field(default_factory=dict)  # name -> Ready / NotReady
    smoke_result: str | None = None
    failures: tuple[StepResult, ...] = ()
    logs: dict[str, str] = field(default_factory=dict)  # node -> log path
    cancelled: bool = False


@dataclass(frozen=True)
class RunFinished(Event):
    summary: Summary


EngineEvent = (
    RunStarted | NodePlanned | NodeConnected | StepStarted | StepOutput | StepProgress | StepFinished
    | NodeFinished | RunFinished
)
