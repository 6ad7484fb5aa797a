"""Engine events -> Textual messages, batched; and the Runner the TUI drives.

The Runner runs in the app's event loop and calls `EngineBridge.__call__` for every event, so that call
only appends to a buffer. A timer (`start(target)`, ~10 Hz) flushes: one `EngineEvents` message with the
transitions in order, and one replaceable `OutputReady` telling the board that panes have lines to pull.
Output lines wait in a capped deque per node: a pane shows a tail, the full transcript is on disk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from textual.message import Message
from textual.message_pump import MessagePump
from textual.timer import Timer

from k8stui.engine.events import EngineEvent, StepOutput
from k8stui.engine.logs import LogBook, Redactor
from k8stui.engine.runner import Runner
from k8stui.engine.secrets_input import all_values, resolve_secrets
from k8stui.engine.ssh import ConnectOptions, NodeSession
from k8stui.engine.state import RunState
from k8stui.model.cluster import ClusterSpec, NodeSpec

FLUSH_SECONDS = 0.1
PENDING_LINES = 200  # per node between two pulls; more than a pane ever shows
HostKeyAsk = Callable[[str, str, str], Awaitable[bool]]  # (host, key type, fingerprint) -> trust?
EventSink = Callable[[EngineEvent], None]


@dataclass
class EngineEvents(Message):
    """The engine's transitions since the last flush, in the order they happened."""

    events: tuple[EngineEvent, ...]


@dataclass
class OutputReady(Message):
    """Some nodes have output lines waiting in the bridge; the handler pulls them (so it may coalesce)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, OutputReady)


class EngineBridge:
    """The Runner's `on_event`: cheap appends now, messages to `target` on every flush."""

    def __init__(self, pending_lines: int = PENDING_LINES) -> None:
        self.pending_lines = pending_lines
        self._events: list[EngineEvent] = []
        self._lines: dict[str, deque[str]] = {}
        self.line_counts: dict[str, int] = {}  # every output line seen per node (benchmarks check them)
        self._target: MessagePump | None = None
        self._timer: Timer | None = None

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, StepOutput):
            self._output(event)
        else:
            self._events.append(event)

    def _output(self, event: StepOutput) -> None:
        lines = self._lines.get(event.node)
        if lines is None:
            lines = self._lines[event.node] = deque(maxlen=self.pending_lines)
        lines.extend(text for _, text in event.lines)
        self.line_counts[event.node] = self.line_counts.get(event.node, 0) + len(event.lines)

    def start(self, target: MessagePump, interval: float = FLUSH_SECONDS) -> None:
        self._target = target
        self._timer = target.set_interval(interval, self.flush, name="engine-flush")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = None

    def flush(self) -> None:
        """Post what arrived since the last flush (nothing when nothing did)."""
        if self._target is None:
            return
        if self._events:
            events, self._events = tuple(self._events), []
            self._target.post_message(EngineEvents(events))
        if any(self._lines.values()):
            self._target.post_message(OutputReady())

    def waiting(self) -> list[str]:
        """Nodes with lines not pulled yet."""
        return [node for node, lines in self._lines.items() if lines]

    def take(self, node: str) -> list[str]:
        lines = self._lines.get(node)
        if not lines:
            return []
        taken = list(lines)
        lines.clear()
        return taken


class RunnerFactory(Protocol):
    """Builds the Runner of one install; the board passes its event sink and its host-key question."""

    def __call__(self, on_event: EventSink, ask: HostKeyAsk) -> Runner: ...


@dataclass
class EngineSetup:
    """Where runs keep their state and how sessions connect (the demo turns ~/.ssh/config off)."""

    state_root: Path | None = None
    options: ConnectOptions | None = None

    def factory(self, spec: ClusterSpec) -> RunnerFactory:
        def build(on_event: EventSink, ask: HostKeyAsk) -> Runner:
            return make_runner(spec, RunState.open(spec.name, self.state_root), on_event, self.options, ask)
        return build


def make_runner(spec: ClusterSpec, state: RunState, on_event: EventSink, options: ConnectOptions | None,
                ask: HostKeyAsk | None = None) -> Runner:
    """As `k8stui apply` builds it, except that passwords come only from the env (no tty prompt here)."""
    secrets = resolve_secrets(spec, interactive=False)
    logs = LogBook(state.logs_dir, Redactor(all_values(secrets)))

    def session(node: NodeSpec) -> NodeSession:
        return NodeSession(node, spec.ssh_for(node), secrets=secrets, options=options, prompt=ask)
    return Runner(spec, state=state, session_factory=session, on_event=on_event, logs=logs)
