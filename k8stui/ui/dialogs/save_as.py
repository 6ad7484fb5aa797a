"""Where to save the cluster file (asked once; later saves reuse the path)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static

from k8stui.ui.files import is_dir


class SaveAsDialog(ModalScreen[Path | None]):
    """Returns the chosen path (its directory must exist), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="saveas.cancel", tooltip="Do not save")]

    def __init__(self, suggestion: str) -> None:
        super().__init__(classes="dialog")
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="save-box") as box:
            box.border_title = "Save the cluster file"
            yield Input(self.suggestion, placeholder="cluster.yaml", id="save-path")
            yield Static("", classes="error", id="save-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield Footer()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def save(self) -> None:
        text = self.query_one(Input).value.strip()
        path = Path(text).expanduser()
        error = self.query_one("#save-error", Static)
        if not text or text.endswith("/") or "\0" in text or is_dir(path):
            error.update("Type a file name, e.g. cluster.yaml.")
        elif not is_dir(path.parent):
            error.update(f"{escape(str(path.parent))} does not exist.")
        else:
            self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
