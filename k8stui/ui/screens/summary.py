"""The end of an install: join command (copy, save 0600, regenerate), kubeconfig, nodes, smoke test, logs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from k8stui.engine.errors import SSHError
from k8stui.engine.events import Summary
from k8stui.engine.stepexec import Session
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.ui.widgets import summary_info as info

NODE_LOOK = {"Ready": "[green]Ready[/]", "NotReady": "[red]NotReady[/]"}


class SummaryScreen(Screen[None]):
    """Shows one Summary; `sessions` (the run's session factory) enables regenerating the join command."""

    BINDINGS = [
        Binding(
            "c", "copy", "Copy join", id="summary.copy", tooltip="Copy the join command to the clipboard"
        ),
        Binding("w", "save", "Save join", id="summary.save", tooltip="Save the join command to a 0600 file"),
        Binding(
            "g",
            "regenerate",
            "New token",
            id="summary.regenerate",
            tooltip="Create a new token on the first control plane and show its join command",
        ),
        Binding("escape", "back", "Board", id="summary.back", tooltip="Back to the install board"),
    ]

    def __init__(
        self,
        summary: Summary,
        spec: ClusterSpec,
        sessions: Callable[[NodeSpec], Session] | None = None,
        save_dir: Path | None = None,
        config: str = "cluster.yaml",
    ) -> None:
        super().__init__(classes="summary")
        self.summary = summary
        self.spec = spec
        self.sessions = sessions
        self.save_dir = save_dir
        self.config = config
        self.sub_title = f"cluster {spec.name}: summary"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="summary-body"):
            yield Static(id="summary-headline")
            yield Static(id="join-command", classes="summary-card")
            yield Static(id="summary-details", classes="summary-card")
            yield DataTable(id="summary-nodes", cursor_type="row", show_cursor=False)
            yield Static(id="summary-failures")
            yield Static(id="summary-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#summary-nodes", DataTable)
        table.border_title = "Nodes"
        for key, label in (("name", "Node"), ("role", "Role"), ("status", "Status")):
            table.add_column(label, key=key)
        self.show()

    def show(self) -> None:
        summary = self.summary
        self.query_one("#summary-headline", Static).update(info.headline(summary))
        join = self.query_one("#join-command", Static)
        join.border_title = "Join command (add nodes)"
        join.update(escape(summary.join_command or "not available: kubeadm init did not complete"))
        details = self.query_one("#summary-details", Static)
        details.update("\n".join(info.detail_lines(summary, info.log_dir(summary))))
        table = self.query_one("#summary-nodes", DataTable)
        table.clear()
        for name, role, status in info.node_rows(summary, self.spec):
            table.add_row(name, role, NODE_LOOK.get(status, f"[dim]{escape(status)}[/]"), key=name)
        failures = self.query_one("#summary-failures", Static)
        failures.update("\n".join(info.failure_lines(summary, self.config)))
        failures.display = bool(summary.failures)
        where = f"{self.save_dir}/{info.JOIN_FILE}" if self.save_dir else info.JOIN_FILE
        self.query_one("#summary-hint", Static).update(
            f"c copies the join command · w saves it to {escape(where)} (0600) · "
            "g creates a new token on the first control plane (the old one stays valid until it expires)")

    def _join(self) -> str | None:
        if not self.summary.join_command:
            self.notify("There is no join command yet.", severity="warning")
        return self.summary.join_command

    def action_copy(self) -> None:
        if (command := self._join()) is not None:
            self.app.copy_to_clipboard(command)
            self.notify("Join command copied to the clipboard.", title="Copied")

    def action_save(self) -> None:
        if (command := self._join()) is None:
            return
        directory = self.save_dir or Path.cwd()
        try:
            path = info.save_join(directory, command)
        except OSError as err:
            self.notify(f"Cannot save: {err.strerror or err}", severity="error")
            return
        self.notify(f"Saved to {path} (mode 0600: it holds a token).", title="Join command saved")

    @work(exclusive=True, group="join", exit_on_error=False)
    async def action_regenerate(self) -> None:
        if self.sessions is None:
            self.notify("No connection settings for this cluster here.", severity="warning")
            return
        self.notify("Creating a new token on the first control plane...", title="Join command")
        try:
            command = await info.fresh_join_command(self.spec, self.sessions)
        except (SSHError, OSError, ValueError, TimeoutError) as err:
            self.notify(str(getattr(err, "message", err)), title="New join command failed", severity="error")
            return
        self.summary = dataclasses.replace(
            self.summary, join_command=command, token_expires=info.new_token_expiry()
        )
        self.show()
        self.notify("A new token was created; the join command above uses it.", title="Join command")

    def action_back(self) -> None:
        self.dismiss(None)
