"""Paste many nodes at once: `ip [name] [role]` per line, ranges like `10.0.0.11-13`."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static, TextArea

from k8stui.model.cluster import NodeSpec
from k8stui.ui.node_lines import Parsed, parse_lines

HELP = (
    "One node per line: [b]ip \\[name] \\[role][/]. Ranges like 10.0.0.11-13 add three nodes. "
    "Without names, the first node becomes cp-1 (control plane), the others node-N (workers)."
)


class PasteNodesDialog(ModalScreen[list[NodeSpec] | None]):
    """Returns the parsed nodes (only when every line is valid), or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="paste.cancel", tooltip="Close without adding nodes"),
        Binding("ctrl+s", "add", "Add nodes", id="paste.add", tooltip="Add the parsed nodes"),
    ]

    def __init__(self, existing: list[NodeSpec]) -> None:
        super().__init__(classes="dialog")
        self.existing = existing
        self.parsed = Parsed()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="paste-box") as box:
            box.border_title = "Paste nodes"
            yield Static(HELP, classes="dialog-text")
            yield TextArea(id="paste-text", soft_wrap=False, show_line_numbers=True)
            yield Static("", id="paste-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add nodes", id="add", variant="primary", disabled=True)
                yield Button("Cancel", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(TextArea.Changed)
    def reparse(self) -> None:
        self.parsed = parse_lines(self.query_one(TextArea).text, self.existing)
        status = self.query_one("#paste-status", Static)
        count = len(self.parsed.nodes)
        lines = [f"{count} node{'s' if count != 1 else ''} ready"]
        lines += [f"[red]✗[/] {escape(e)}" for e in self.parsed.errors[:8]]
        if len(self.parsed.errors) > 8:
            lines.append(f"... and {len(self.parsed.errors) - 8} more errors")
        status.update("\n".join(lines))
        status.set_class(bool(self.parsed.errors), "-invalid")
        self.query_one("#add", Button).disabled = not self._ready

    @property
    def _ready(self) -> bool:
        return bool(self.parsed.nodes) and not self.parsed.errors

    @on(Button.Pressed, "#add")
    def action_add(self) -> None:
        if self._ready:
            self.dismiss(self.parsed.nodes)
        elif self.parsed.errors:
            self.notify("Fix the lines marked ✗ first.", severity="error")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
