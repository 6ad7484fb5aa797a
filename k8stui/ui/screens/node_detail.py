"""One node in full: its steps (status, duration, exit code), why a step failed, and its log file, live.

The log shown is the node's transcript on disk (the engine's own file, redacted), tailed every 250 ms:
what the screen shows is exactly what an operator would find with `less`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from k8stui.engine.events import Status, StepResult
from k8stui.ui.widgets.board_model import NodeRow, clock_text
from k8stui.ui.widgets.node_pane import TailLog

LOG_LINES = 2000  # the widget's cap; the file holds everything
FIRST_READ = 256 * 1024  # bytes of the file's end read on open
READ_SECONDS = 0.25
STATUS_LOOK = {
    Status.OK: "[green]ok[/]", Status.SKIPPED: "[green]skipped[/]", Status.FAILED: "[b red]FAILED[/]",
    Status.BLOCKED: "[yellow]blocked[/]", Status.CANCELLED: "[yellow]cancelled[/]",
    Status.RUNNING: "[cyan]running[/]",
}


def display_line(raw: str) -> str:
    """`2026-11-27T14:40:00Z init out| text` -> `14:40:00 init out| text` (the date wastes width)."""
    stamp, _, rest = raw.partition(" ")
    if len(stamp) == 20 and stamp[10] == "T" and stamp.endswith("Z"):
        return f"{stamp[11:19]} {rest}"
    return raw


def duration_text(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 60 else clock_text(seconds)


def step_cells(row: NodeRow, step: str, number: int) -> tuple[str | Text, ...]:
    res: StepResult | None = row.results.get(step)
    status = Status.RUNNING if row.running == step else (res.status if res else Status.PENDING)
    look = STATUS_LOOK.get(status, f"[dim]{status.value}[/]")
    took = duration_text(res.duration) if res and res.started and res.finished else ""
    code = "" if res is None or res.exit_code is None else str(res.exit_code)
    message = (res.message if res else "") or (row.progress if row.running == step else "")
    return (f"{number:2d}", step, Text.from_markup(look), took, code, Text(message))


def failure_text(row: NodeRow) -> str:
    failure = row.failure
    if failure is None:
        return ""
    lines = [f"✗ {failure.step} failed: {failure.message}"]
    lines += [f"  │ {line}" for line in failure.tail[-6:]]
    lines.append("  Diagnostics were collected into the log below (lines after '--- diagnostics').")
    return "\n".join(lines)


class LogTail:
    """Reads what a file gained since the last read (whole lines only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.offset = 0
        self._partial = b""
        self._cut = False  # the first read started mid-file: its first line is a fragment

    def _new_bytes(self, first: int) -> bytes:
        assert self.path is not None
        with open(self.path, "rb") as handle:
            size = handle.seek(0, 2)
            if self.offset == 0 and size > first:
                self.offset, self._cut = size - first, True
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        return data

    def read(self, first: int = FIRST_READ) -> list[str]:
        if self.path is None:
            return []
        try:
            data = self._new_bytes(first)
        except FileNotFoundError:
            return []
        complete, newline, self._partial = (self._partial + data).rpartition(b"\n")
        if not newline:
            return []
        lines = complete.decode(errors="replace").split("\n")
        if self._cut:
            lines, self._cut = lines[1:], False
        return lines


class NodeDetailScreen(Screen[None]):
    """Push it with the board's row of the node; the board calls `node_changed` as events arrive."""

    BINDINGS = [
        Binding("escape", "back", "Board", id="detail.back", tooltip="Back to the install board"),
        Binding("r", "retry", "Retry", id="detail.retry", tooltip="Retry the failed step, then continue"),
    ]

    def __init__(self, row: NodeRow, log: Path | None, retry: Callable[[str], None] | None = None) -> None:
        super().__init__(classes="node-detail")
        self.row = row
        self.node = row.name
        self.tail = LogTail(log)
        self.retry = retry
        self._placed = False  # the cursor was put on the failed step once (then the operator moves it)
        self.sub_title = f"node {row.name}"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="detail-head", markup=False)
        yield DataTable(id="detail-steps", cursor_type="row", zebra_stripes=True)
        yield Static(id="detail-failure", markup=False)
        log = TailLog(id="detail-log", max_lines=LOG_LINES, highlight=False)
        log.border_title = str(self.tail.path) if self.tail.path else "log"
        yield log
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("n", "#"), ("step", "Step"), ("status", "Status"), ("took", "Took"),
                           ("exit", "Exit"), ("message", "Message")):
            table.add_column(label, key=key)
        self.node_changed()
        self.call_after_refresh(self._first_read)
        self.set_interval(READ_SECONDS, self._read_log, name="detail-log")

    def node_changed(self) -> None:
        """Redraw the step table and the failure panel from the row."""
        row = self.row
        head = f"{row.name} · {row.role} · {row.done}/{len(row.steps)} steps done"
        self.query_one("#detail-head", Static).update(head + (f" · {row.connected}" if row.connected else ""))
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for number, step in enumerate(row.steps, 1):
            table.add_row(*step_cells(row, step, number), key=step)
        if not self._placed and row.failure is not None and row.failure.step in row.steps:
            cursor, self._placed = row.steps.index(row.failure.step), True  # the failed step in view
        table.move_cursor(row=min(cursor, max(0, table.row_count - 1)))
        failure = self.query_one("#detail-failure", Static)
        failure.update(failure_text(row))
        failure.display = row.failure is not None

    def _first_read(self) -> None:
        """Once the log has a size, so that it starts at the end and follows it."""
        self._read_log()
        self.query_one(TailLog).scroll_end(animate=False, immediate=True)

    def _read_log(self) -> None:
        lines = self.tail.read()
        if lines:
            self.query_one(TailLog).write_lines(display_line(line) for line in lines)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_retry(self) -> None:
        if self.retry is not None:
            self.retry(self.node)
