"""A yes/no question: `ModalScreen[bool]`, "No" focused so a stray Enter never confirms by accident."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class ConfirmDialog(ModalScreen[bool]):
    """Ask `question`; dismiss True only on an explicit yes."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", "No", id="confirm.no", tooltip="Refuse"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Confirm"),
    ]

    def __init__(self, title: str, question: str, yes: str = "Yes") -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.title_text
            yield Static(self.question, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, id="yes", variant="warning")
                yield Button("No", id="no", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
