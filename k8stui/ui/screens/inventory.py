"""Inventory: the nodes table; add, edit, delete, paste many, and test SSH + gather facts in parallel."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import DataTable, Static

from k8stui.model.cluster import ClusterSpec, NodeSpec, SSHSpec
from k8stui.model.facts import Facts
from k8stui.ui.dialogs.host_key import HostKeyDialog, HostKeyInfo
from k8stui.ui.dialogs.paste_nodes import PasteNodesDialog
from k8stui.ui.dialogs.ssh_defaults import SSHDefaultsDialog
from k8stui.ui.inventory_view import fact_cells, flags, ip_hint, role_label, ssh_label
from k8stui.ui.screens.node_form import NodeForm
from k8stui.ui.screens.wizard import WizardScreen
from k8stui.ui.validation import problems, under

HostKeyPrompt = Callable[[HostKeyInfo], Awaitable[bool]]
Probe = Callable[[ClusterSpec, NodeSpec, HostKeyPrompt], Awaitable[Facts]]
MAX_PROBES = 32  # connections at once, as `k8stui apply --concurrency` defaults to
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
COLUMNS = (
    ("status", " "),
    ("name", "Name"),
    ("address", "SSH address"),
    ("ip", "Internal IP"),
    ("role", "Role"),
    ("ssh", "User/auth"),
    ("os", "OS"),
    ("kernel", "Kernel"),
    ("size", "Size"),
    ("cgroup", "cg"),
    ("flags", "Flags"),
)
FACT_COLUMNS = ("os", "kernel", "size", "cgroup")  # the keys of fact_cells' values, in order
STATUS_MARK = {"ok": "[green]✓[/]", "failed": "[red]✗[/]"}


class InventoryScreen(WizardScreen):
    """Step 1: which machines, how to reach them, and what they are."""

    STEP = "inventory"
    TITLE = "Inventory"
    BINDINGS = [
        Binding("a", "add", "Add", id="inventory.add", tooltip="Add a node"),
        Binding("e", "edit", "Edit", id="inventory.edit", tooltip="Edit the selected node"),
        Binding("d", "delete", "Delete", id="inventory.delete", tooltip="Remove the selected node"),
        Binding("p", "paste", "Paste", id="inventory.paste", tooltip="Paste many nodes: ip [name] [role]"),
        Binding(
            "s",
            "ssh_defaults",
            "SSH",
            id="inventory.ssh",
            tooltip="SSH defaults for every node: user, key, sudo, bastion, host keys",
        ),
        Binding(
            "t",
            "test",
            "Test SSH",
            id="inventory.test",
            tooltip="Connect to every node over SSH and gather facts",
        ),
    ]

    def __init__(self, spec: ClusterSpec, facts: dict[str, Facts], probe: Probe | None = None) -> None:
        super().__init__(spec)
        self.facts = facts  # shared with the App: Review plans with what was gathered here
        self.probe = probe
        self.status: dict[str, str] = {}  # node -> testing | ok | failed
        self.errors: dict[str, str] = {}  # node -> why its test failed
        self._frame = 0
        self._dialog_lock = asyncio.Lock()  # one host-key question at a time
        self._slots = asyncio.Semaphore(MAX_PROBES)

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield DataTable(id="nodes", cursor_type="row", zebra_stripes=True)
        yield Static(id="inventory-problems")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        table = self.query_one("#nodes", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self.refresh_table()
        self.set_interval(0.1, self._spin)
        table.focus()

    # --- display --------------------------------------------------------------------------------

    def refresh_table(self) -> None:
        table = self.query_one("#nodes", DataTable)
        cursor = table.cursor_row
        table.clear()
        node_flags = flags(self.spec, self.facts)
        for node in self.spec.nodes:
            facts = self.facts.get(node.name)
            table.add_row(
                self._status_cell(node.name),
                node.name,
                node.address,
                node.node_ip or "-",
                role_label(node),
                ssh_label(self.spec, node),
                *fact_cells(facts),
                " ".join(node_flags.get(node.name, [])) or "",
                key=node.name,
            )
        if self.spec.nodes:
            table.move_cursor(row=min(cursor, len(self.spec.nodes) - 1))
        self._show_problems()

    def refresh_tested(self, name: str) -> None:
        """One node's test finished: update its cells and every flag, not the whole table (200 nodes)."""
        table = self.query_one("#nodes", DataTable)
        for key, value in zip(FACT_COLUMNS, fact_cells(self.facts.get(name)), strict=True):
            table.update_cell(name, key, value, update_width=True)
        table.update_cell(name, "status", self._status_cell(name))
        for node_name, found in flags(self.spec, self.facts).items():
            table.update_cell(node_name, "flags", " ".join(found), update_width=True)
        self._show_problems()

    def _status_cell(self, name: str) -> str:
        state = self.status.get(name, "")
        if state == "testing":
            return SPINNER[self._frame % len(SPINNER)]
        return STATUS_MARK.get(state, " ")

    def _spin(self) -> None:
        testing = [name for name, state in self.status.items() if state == "testing"]
        if not testing:
            return
        self._frame += 1
        table = self.query_one("#nodes", DataTable)
        for name in testing:
            if name in table.rows:
                table.update_cell(name, "status", self._status_cell(name))

    def _show_problems(self) -> None:
        lines = [
            f"[red]✗[/] {escape(path)}: {escape(message)}"
            for path, message in under(problems(self.spec), "nodes").items()
        ]
        lines += [f"[red]✗[/] {escape(name)}: {escape(error)}" for name, error in self.errors.items()]
        lines += [f"[yellow]![/] {escape(name)}: {escape(hint)}" for name, hint in self._ip_hints()]
        if not self.spec.nodes:
            lines = ["No nodes yet: press [b]a[/] to add one or [b]p[/] to paste a list."]
        widget = self.query_one("#inventory-problems", Static)
        widget.update("\n".join(lines[:8]))
        widget.display = bool(lines)
        widget.set_class(any("✗" in line for line in lines), "-invalid")

    # --- editing --------------------------------------------------------------------------------

    def _ip_hints(self) -> list[tuple[str, str]]:
        tested = [(n, self.facts[n.name]) for n in self.spec.nodes if n.name in self.facts]
        return [(n.name, hint) for n, f in tested if (hint := ip_hint(n, f)) is not None]

    def _selected(self) -> int | None:
        table = self.query_one("#nodes", DataTable)
        return table.cursor_row if self.spec.nodes and 0 <= table.cursor_row < len(self.spec.nodes) else None

    def action_add(self) -> None:
        self.app.push_screen(NodeForm(None, list(self.spec.nodes)), self._added)

    def _added(self, node: NodeSpec | None) -> None:
        if node is not None:
            self.spec.nodes = [*self.spec.nodes, node]
            self.refresh_table()
            self.query_one("#nodes", DataTable).move_cursor(row=len(self.spec.nodes) - 1)

    @on(DataTable.RowSelected, "#nodes")
    def action_edit(self) -> None:
        index = self._selected()
        if index is None:
            self.notify("No node selected.", severity="warning")
            return
        others = [n for i, n in enumerate(self.spec.nodes) if i != index]
        self.app.push_screen(NodeForm(self.spec.nodes[index], others), lambda n: self._edited(index, n))

    def _edited(self, index: int, node: NodeSpec | None) -> None:
        if node is None:
            return
        old = self.spec.nodes[index]
        nodes = list(self.spec.nodes)
        nodes[index] = node
        self.spec.nodes = nodes
        if old.address != node.address or old.name != node.name:
            # Facts belong to the machine that was tested: a new address must be tested again.
            for table in (self.facts, self.status, self.errors):
                table.pop(old.name, None)
        self.refresh_table()

    def action_delete(self) -> None:
        index = self._selected()
        if index is None:
            return
        removed = self.spec.nodes[index]
        self.spec.nodes = [n for i, n in enumerate(self.spec.nodes) if i != index]
        for table in (self.facts, self.status, self.errors):
            table.pop(removed.name, None)
        self.refresh_table()
        self.notify(f"Removed {removed.name}.")

    def action_paste(self) -> None:
        self.app.push_screen(PasteNodesDialog(list(self.spec.nodes)), self._pasted)

    def _pasted(self, nodes: list[NodeSpec] | None) -> None:
        if nodes:
            self.spec.nodes = [*self.spec.nodes, *nodes]
            self.refresh_table()
            self.notify(f"Added {len(nodes)} node{'s' if len(nodes) != 1 else ''}.")

    def action_ssh_defaults(self) -> None:
        self.app.push_screen(SSHDefaultsDialog(self.spec.ssh), self._ssh_changed)

    def _ssh_changed(self, ssh: SSHSpec | None) -> None:
        if ssh is not None:
            self.spec.ssh = ssh
            self.refresh_table()

    # --- testing --------------------------------------------------------------------------------

    def action_test(self) -> None:
        if not self.spec.nodes:
            self.notify("Add nodes first.", severity="warning")
            return
        if self.probe is None:
            self.notify("Connection tests are not available in this session.", severity="error")
            return
        for node in self.spec.nodes:
            if self.status.get(node.name) != "testing":
                self.status[node.name] = "testing"
                self.errors.pop(node.name, None)
                self._probe_node(node)
        self.refresh_table()

    @work(group="probe", exit_on_error=False)
    async def _probe_node(self, node: NodeSpec) -> None:
        assert self.probe is not None
        try:
            async with self._slots:
                facts = await self.probe(self.spec, node, self._ask_host_key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure of one node is shown on its row, never crashes the screen
            self.status[node.name] = "failed"
            self.errors[node.name] = str(exc) or type(exc).__name__
        else:
            self.status[node.name] = "ok"
            self.facts[node.name] = facts
        # The operator may have left the screen or removed the node meanwhile.
        if self.is_attached and any(n.name == node.name for n in self.spec.nodes):
            self.refresh_tested(node.name)

    async def _ask_host_key(self, info: HostKeyInfo) -> bool:
        async with self._dialog_lock:
            return bool(await self.app.push_screen_wait(HostKeyDialog(info)))

    def blocker(self) -> str | None:
        return None if self.spec.nodes else "Add at least one node first (a to add, p to paste)."
