"""Add or edit one node: a modal form with an inline error under every field, checked as you type."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Select

from k8stui.model.cluster import NodeSpec
from k8stui.model.facts import SUPPORTED_OS
from k8stui.ui.validation import node_errors
from k8stui.ui.widgets.field import Field

ROLES = [("control-plane", "control-plane"), ("worker", "worker")]
SUDO = [("auto (when user is not root)", "auto"), ("never", "never"), ("always", "always")]
# (form key, NodeSpec path) for the text inputs; the path is what pydantic reports an error under.
TEXT_FIELDS = (
    ("name", "name"),
    ("address", "address"),
    ("internal-ip", "internalIP"),
    ("user", "ssh.user"),
    ("port", "ssh.port"),
    ("identity", "ssh.identityFile"),
    ("password-env", "ssh.passwordEnv"),
)


class NodeForm(ModalScreen[NodeSpec | None]):
    """Dismisses with the new/edited node, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="node.cancel", tooltip="Close without saving the node"),
        Binding("ctrl+s", "submit", "Save node", id="node.save", tooltip="Save this node"),
    ]

    def __init__(self, node: NodeSpec | None, others: list[NodeSpec]) -> None:
        super().__init__(classes="dialog")
        self.node = node
        self.others = others  # the inventory without this node, for duplicate checks
        self.errors: dict[str, str] = {}
        # A new form shows a field's error only once that field was edited (or on submit).
        self.touched: set[str] = set() if node is None else {"*"}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="node-box") as box:
            box.border_title = f"Edit {self.node.name}" if self.node else "Add a node"
            with VerticalScroll(id="node-fields"):
                yield from self._node_fields()
                yield from self._ssh_fields()
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save node", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def _node_fields(self) -> ComposeResult:
        node = self.node
        yield self._text("Name", "name", node.name if node else "", "e.g. cp-1 (a-z, 0-9, -)")
        yield self._text("SSH address", "address", node.address if node else "", "IP or host name")
        internal = node.internal_ip or "" if node else ""
        yield self._text("Internal IP", "internal-ip", internal, "empty: the SSH address")
        role = Select(
            ROLES, value=node.role if node else "worker", allow_blank=False, compact=True, id="role"
        )
        yield Field("Role", role, "role")
        os_value = node.os if node and node.os else Select.NULL
        os = Select(
            [(o, o) for o in SUPPORTED_OS], value=os_value, prompt="detect over SSH", compact=True, id="os"
        )
        yield Field("OS", os, "os")

    def _ssh_fields(self) -> ComposeResult:
        """Per-node SSH overrides; empty means the cluster-wide `ssh` value applies."""
        ssh = self.node.ssh if self.node and self.node.ssh else None
        yield self._text("SSH user", "user", ssh.user or "" if ssh else "", "cluster default")
        yield self._text("SSH port", "port", str(ssh.port or "") if ssh else "", "cluster default")
        yield self._text(
            "Identity file", "identity", ssh.identity_file or "" if ssh else "", "cluster default"
        )
        password_env = ssh.password_env or "" if ssh else ""
        yield self._text("Password env", "password-env", password_env, "variable holding the password")
        sudo = ssh.sudo if ssh and ssh.sudo else Select.NULL
        yield Field(
            "sudo", Select(SUDO, value=sudo, prompt="cluster default", compact=True, id="sudo"), "ssh.sudo"
        )

    @staticmethod
    def _text(label: str, key: str, value: str, placeholder: str) -> Field:
        path = dict(TEXT_FIELDS)[key]
        return Field(label, Input(value, placeholder=placeholder, compact=True, id=key), path)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        if self.node is not None:
            self.validate()

    def _value(self, key: str) -> str:
        return self.query_one(f"#{key}", Input).value.strip()

    def data(self) -> dict[str, Any]:
        """The form as a cluster-file node entry (empty fields left out: defaults apply)."""
        data: dict[str, Any] = {
            "name": self._value("name"),
            "address": self._value("address"),
            "role": self.query_one("#role", Select).value,
        }
        if internal := self._value("internal-ip"):
            data["internalIP"] = internal
        if (os := self.query_one("#os", Select).value) is not Select.NULL:
            data["os"] = os
        ssh = {
            "user": self._value("user"),
            "port": self._value("port"),
            "identityFile": self._value("identity"),
            "passwordEnv": self._value("password-env"),
            "sudo": self.query_one("#sudo", Select).value,
        }
        ssh = {k: v for k, v in ssh.items() if v and v is not Select.NULL}
        if ssh:
            data["ssh"] = ssh
        return data

    def validate(self) -> dict[str, str]:
        data = self.data()
        self.errors = {**self._duplicates(data), **node_errors(data)}
        for field in self.query(Field):
            shown = "*" in self.touched or field.key in self.touched
            field.show(self._error_for(field.key) if shown else None)
        return self.errors

    def _error_for(self, key: str) -> str | None:
        return next((m for path, m in self.errors.items() if path == key or path.startswith(key + ".")), None)

    def _duplicates(self, data: dict[str, Any]) -> dict[str, str]:
        found = {}
        for other in self.others:
            if data["name"] and other.name == data["name"]:
                found["name"] = f"{other.name!r} is already in the inventory"
            if data["address"] and other.address == data["address"]:
                found["address"] = f"{other.address} is already the address of {other.name}"
            ip = data.get("internalIP")
            if ip and ip == other.node_ip:
                found["internalIP"] = f"{ip} is already the internal IP of {other.name}"
        return found

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        field = next((a for a in event.control.ancestors if isinstance(a, Field)), None)
        if field is not None and event.control.has_focus:
            self.touched.add(field.key)
        self.validate()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_submit(self) -> None:
        self.touched.add("*")
        if self.validate():
            self.notify("Fix the fields marked in red first.", severity="error")
            return
        self.dismiss(NodeSpec.model_validate(self.data()))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
