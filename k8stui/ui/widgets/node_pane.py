"""One node on the install board: name, role, step, progress, elapsed time, and a short live tail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Log, Static

from k8stui.ui.widgets.board_model import NodeRow, NodeState, clock_text

PANE_LINES = 40  # the tail a pane keeps; the full log is on disk and in the node detail
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
    NodePane > TailLog { height: 1fr; overflow: hidden hidden; background: transparent; color: $text-muted; }
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

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-status", markup=False)
        yield TailLog(max_lines=PANE_LINES, auto_scroll=True)

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
            self.remove_class(*(f"-{s.value}" for s in NodeState))
            self.add_class(f"-{shown[1].value}")
        self._shown = shown
        self.query_one(".pane-status", Static).update(shown[0], layout=False)  # one fixed line

    def write_lines(self, lines: Iterable[str]) -> None:
        log = self.query_one(TailLog)
        # Always follow the end: Log only follows when it was at the end, which it is not
        # when its first lines arrive before it has a size.
        log.write_lines(lines, scroll_end=False)
        log.scroll_end(animate=False, immediate=True, x_axis=False, force=True)  # overflow is hidden

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Opened(self.node))
