"""One node on the install board: name, role, step, progress, elapsed time, and a short live tail."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from rich.segment import Segment
from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Log, Static

from k8stui.ui.widgets.board_model import NodeRow, NodeState, clock_text

PANE_LINES = 40  # the tail a pane keeps; the full log is on disk and in the node detail
# Control characters (escape sequences too) would move the terminal's cursor: shown as one mark each.
_CONTROL = re.compile("[\x00-\x1f\x7f]")
MARKS = {
    NodeState.PENDING: "·", NodeState.RUNNING: "▶", NodeState.DONE: "✓", NodeState.FAILED: "✗",
    NodeState.BLOCKED: "■",
}


class TailLog(Log):
    """A Log that never measures line widths (it never scrolls sideways; long lines are cut).

    Log measures in a thread per write, too many for 50 panes at 10 Hz, and a wider line changes
    `virtual_size`, which makes Textual lay out the whole screen again.
    """

    def _update_size(self, updates: int, lines: list[str]) -> None:  # type: ignore[override]
        return


class PaneTail(Widget):
    """The last lines of a node's output, the newest at the bottom; a write repaints it, never a layout.

    A Log keeps a scrollable document: until it is full each write grows its virtual size (a layout
    of the whole screen), and each write scrolls it. A pane only ever shows its last few lines, so
    this keeps a short deque and draws the lines in view straight from it.
    """

    def __init__(self, max_lines: int = PANE_LINES) -> None:
        super().__init__()
        self._lines: deque[str] = deque(maxlen=max_lines)

    @property
    def lines(self) -> list[str]:
        return list(self._lines)

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def write_lines(self, lines: Iterable[str]) -> None:
        # Empty lines are dropped, as Log drops them: three lines of tail are too few to waste one.
        for line in lines:
            self._lines.extend(_CONTROL.sub("\ufffd", part.expandtabs()) for part in line.splitlines())
        self.refresh()  # same size, so a repaint of this widget only

    def render_line(self, y: int) -> Strip:
        width, style = self.size.width, self.rich_style
        index = max(0, len(self._lines) - self.size.height) + y  # follow the end
        if index >= len(self._lines):
            return Strip.blank(width, style)
        return Strip([Segment(self._lines[index], style)]).crop_extend(0, width, style)


def status_text(row: NodeRow, elapsed: str = "") -> str:
    """`▶ 6/14 1:07 kube-packages · 3/8 Unpacking`: mark, progress and time first (never cut), then state."""
    state = row.state
    head = f"{MARKS[state]} {row.done}/{len(row.steps)}" + (f" {elapsed}" if elapsed else "")
    if state is NodeState.FAILED and row.failure is not None:
        return f"{head} {row.failure.step} failed · {row.failure.message}"
    if state is NodeState.BLOCKED:
        stopped = next((r for r in row.results.values() if not r.status.done), None)
        return f"{head} {stopped.step} {stopped.status.value} · {stopped.message}" if stopped else head
    if state is NodeState.RUNNING and not row.running:
        return f"{head} waiting for another node"
    if state is NodeState.RUNNING:
        return f"{head} {row.running}" + (f" · {row.progress}" if row.progress else "")
    return f"{head} {'done' if state is NodeState.DONE else 'waiting'}"


class NodePane(Widget):
    """One node; the grid marks the selected one (`-selected`); a click opens the node's detail."""

    DEFAULT_CSS = """
    NodePane { height: 6; border: round $panel-lighten-2; padding: 0 1; }
    NodePane > .pane-status { height: 1; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    NodePane > PaneTail { height: 1fr; background: transparent; color: $text-muted; }
    """

    @dataclass
    class Opened(Message):
        """The operator asked for this node's detail (Enter or a click)."""

        node: str

    def __init__(self, row: NodeRow) -> None:
        super().__init__(id=f"pane-{row.name}", classes="node-pane -pending")
        self.node = row.name
        self.border_title = row.name
        self.border_subtitle = "control plane" if row.role == "control-plane" else row.role
        self._shown = ("", NodeState.PENDING)
        self._status = Static("", classes="pane-status", markup=False)
        self._tail = PaneTail()

    def compose(self) -> ComposeResult:
        yield self._status
        yield self._tail

    def show(self, row: NodeRow, now: float) -> None:
        """Redraw the state line (and the class) only when it changed.

        The ticking elapsed time is in the state line, not the border: a border change repaints
        the whole pane, a line repaints one row.
        """
        elapsed = clock_text(row.elapsed(now)) if row.started is not None else ""
        shown = (status_text(row, elapsed), row.state)
        if shown == self._shown:
            return
        if shown[1] is not self._shown[1]:
            # One restyle of the pane and its children, not two (remove, then add).
            self.remove_class(*(f"-{s.value}" for s in NodeState), update=False)
            self.add_class(f"-{shown[1].value}")
        self._shown = shown
        self._status.update(shown[0], layout=False)  # one fixed line

    def write_lines(self, lines: Iterable[str]) -> None:
        self._tail.write_lines(lines)

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Opened(self.node))
