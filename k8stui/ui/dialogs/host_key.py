"""An SSH host key seen for the first time: show what it is and let the operator accept or refuse."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


@dataclass(frozen=True)
class HostKeyInfo:
    """What the dialog shows: `host` as SSH sees it, e.g. `10.0.0.11:22`."""

    host: str
    key_type: str
    fingerprint: str  # "SHA256:..."


class HostKeyDialog(ModalScreen[bool]):
    """Accept (True) or refuse (False) an unknown host key. Refuse is the default."""

    BINDINGS = [
        Binding("escape", "refuse", "Refuse", id="hostkey.refuse", tooltip="Do not trust this key"),
        Binding("a", "accept", "Accept", id="hostkey.accept", tooltip="Trust this key and remember it"),
    ]

    def __init__(self, info: HostKeyInfo) -> None:
        super().__init__(classes="dialog")
        self.info = info

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="host-key-box") as box:
            box.border_title = "Unknown host key"
            yield Static(
                f"The authenticity of [b]{escape(self.info.host)}[/] cannot be established.\n\n"
                f"Key type:     {escape(self.info.key_type)}\n"
                f"Fingerprint:  [b]{escape(self.info.fingerprint)}[/]\n\n"
                "Compare it with the key on the machine (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) "
                "before you accept.",
                classes="dialog-text",
                markup=True,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Accept", id="accept", variant="warning")
                yield Button("Refuse", id="refuse", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#refuse", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "accept")

    def action_accept(self) -> None:
        self.dismiss(True)

    def action_refuse(self) -> None:
        self.dismiss(False)
