"""A labelled form field with an inline message line: `-invalid` (error) or `-warning` state."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Label, Static


class Field(Vertical):
    """Label + one input widget + a message shown only when there is something to say."""

    def __init__(self, label: str, widget: Widget, key: str, hint: str = "") -> None:
        super().__init__(classes="field", id=f"field-{key.replace('.', '-')}")
        self.key = key  # the cluster-file path this field edits, e.g. `network.podSubnet`
        self.label = label
        self.widget = widget
        self.hint = hint
        self._shown: tuple[str | None, str | None] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(self.label, classes="field-label")
            yield self.widget
        yield Static(escape(self.hint), classes="field-message")

    def show(self, error: str | None = None, warning: str | None = None) -> None:
        """Show an error (wins), else a warning, else the hint (if any)."""
        if self._shown == (error, warning):
            return  # unchanged: skip the restyle and relayout (this runs on every keystroke)
        self._shown = (error, warning)
        self.set_class(error is not None, "-invalid")
        self.set_class(error is None and warning is not None, "-warning")
        text = error if error is not None else warning if warning is not None else self.hint
        message = self.query_one(".field-message", Static)
        message.update(escape(text))
        message.display = bool(text)

    def on_mount(self) -> None:
        self.query_one(".field-message", Static).display = bool(self.hint)

    @property
    def message(self) -> str:
        return str(self.query_one(".field-message", Static).content)
