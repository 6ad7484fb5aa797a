"""Where to save the cluster file (asked once; later saves reuse the path)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static


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
        if not text or text.endswith("/") or path.is_dir():
            self.query_one("#save-error", Static).update("Type a file name, e.g. cluster.yaml.")
        elif not path.parent.is_dir():
            self.query_one("#save-error", Static).update(f"{path.parent} does not exist.")
        else:
            self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
