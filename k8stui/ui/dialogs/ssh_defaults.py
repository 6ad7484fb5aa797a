"""The cluster-wide `ssh` block: how every node is reached unless the node overrides a key."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Select

from k8stui.model.cluster import SSHSpec
from k8stui.ui.validation import model_errors
from k8stui.ui.widgets.field import Field

SUDO = [("auto (when user is not root)", "auto"), ("never", "never"), ("always", "always")]
POLICIES = [
    ("strict (known_hosts, ask when unknown)", "strict"),
    ("accept-new (trust on first use)", "accept-new"),
]
# Input id -> (cluster-file key under `ssh`, label, placeholder); empty optional keys mean null.
TEXT_FIELDS = {
    "ssh-user": ("user", "User", "root"),
    "ssh-port": ("port", "Port", "22"),
    "ssh-identity": ("identityFile", "Identity file", "empty: ssh-agent / ~/.ssh/config"),
    "ssh-password-env": ("passwordEnv", "Password env", "variable holding the SSH password"),
    "ssh-sudo-password-env": ("sudoPasswordEnv", "sudo password env", "variable holding the sudo password"),
    "ssh-bastion": ("bastion", "Bastion", "user@host:port jump host"),
    "ssh-known-hosts": ("knownHosts", "known_hosts", "~/.ssh/known_hosts"),
}
REQUIRED = {"user", "port", "knownHosts"}  # keys with a value in every SSHSpec


class SSHDefaultsDialog(ModalScreen[SSHSpec | None]):
    """Edit the cluster-wide SSH settings; dismisses with the new SSHSpec, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="sshdefaults.cancel", tooltip="Close without changes"),
        Binding("ctrl+s", "submit", "Apply", id="sshdefaults.apply", tooltip="Use these SSH settings"),
    ]

    def __init__(self, ssh: SSHSpec) -> None:
        super().__init__(classes="dialog")
        self.ssh = ssh
        self.errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        wire = self.ssh.model_dump(mode="json", by_alias=True)
        with Vertical(classes="dialog-box", id="ssh-box") as box:
            box.border_title = "SSH defaults for every node"
            with VerticalScroll(id="ssh-fields"):
                for widget_id, (key, label, placeholder) in TEXT_FIELDS.items():
                    value = "" if wire.get(key) is None else str(wire[key])
                    yield Field(label, Input(value, placeholder=placeholder, compact=True, id=widget_id), key)
                yield Field(
                    "sudo",
                    Select(SUDO, value=self.ssh.sudo, allow_blank=False, compact=True, id="ssh-sudo"),
                    "sudo",
                )
                yield Field(
                    "Host keys",
                    Select(
                        POLICIES,
                        value=self.ssh.host_key_policy,
                        allow_blank=False,
                        compact=True,
                        id="ssh-policy",
                    ),
                    "hostKeyPolicy",
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ssh-user", Input).focus()

    def data(self) -> dict[str, Any]:
        """The form as the cluster file's `ssh` block; an empty optional field is null."""
        data: dict[str, Any] = {}
        for widget_id, (key, _, _) in TEXT_FIELDS.items():
            text = self.query_one(f"#{widget_id}", Input).value.strip()
            if text or key not in REQUIRED:
                data[key] = text or None
        data["sudo"] = self.query_one("#ssh-sudo", Select).value
        data["hostKeyPolicy"] = self.query_one("#ssh-policy", Select).value
        return data

    def validate(self) -> dict[str, str]:
        self.errors = model_errors(SSHSpec, self.data())
        for field in self.query(Field):
            field.show(self.errors.get(field.key))
        return self.errors

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.validate()

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def action_submit(self) -> None:
        if self.validate():
            self.notify("Fix the fields marked in red first.", severity="error")
            return
        self.dismiss(SSHSpec.model_validate(self.data()))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
