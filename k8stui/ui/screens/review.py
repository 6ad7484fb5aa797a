"""Review: the plan per node, every script and config as it will run, save, and Install."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.timer import Timer
from textual.widgets import Label, Select, Static, Tree

from k8stui.model.cluster import ClusterSpec
from k8stui.model.facts import SUPPORTED_OS, Facts
from k8stui.recipes.plan import Plan, PlannedStep
from k8stui.ui import review_items as items
from k8stui.ui.dialogs.confirm import ConfirmDialog
from k8stui.ui.screens.wizard import WizardScreen
from k8stui.ui.validation import problems, warnings

if TYPE_CHECKING:
    from k8stui.ui.app import K8sTuiApp

DEFAULT_PREVIEW_OS = "ubuntu-22.04"
SHOW_DELAY = 0.08  # seconds the highlight must rest on a row before its document renders
Item = PlannedStep | str  # a planned step, or the name of a whole-cluster document


class ReviewScreen(WizardScreen):
    """Step 4. Everything here is rendered offline: no connection is made until Install."""

    STEP = "review"
    TITLE = "Review"
    BINDINGS = [
        Binding("i", "install", "Install", id="review.install", tooltip="Confirm, then install the cluster"),
        Binding("v", "focus_viewer", "View", id="review.view", tooltip="Scroll the selected document"),
        Binding("s", "app.save", "Save", id="review.save", show=False, tooltip="Save the cluster file"),
    ]

    def __init__(
        self, spec: ClusterSpec, facts: dict[str, Facts], preview_os: str = DEFAULT_PREVIEW_OS
    ) -> None:
        super().__init__(spec)
        self.facts = facts
        self.preview_os = preview_os
        self.plan: Plan = items.make_plan(self.spec, facts, preview_os)
        self._pending: Timer | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield Static(id="review-problems")
        with Horizontal(id="review-body"):
            with Vertical(id="review-side"):
                with Horizontal(id="preview-os-row"):
                    yield Label("Preview OS", classes="field-label")
                    yield Select(
                        [(o, o) for o in SUPPORTED_OS],
                        value=self.preview_os,
                        allow_blank=False,
                        compact=True,
                        id="preview-os",
                        tooltip="OS used for nodes that were not tested and have no os: in the file",
                    )
                yield Tree("plan", id="plan-tree")
            with VerticalScroll(id="viewer", can_focus=True):
                yield Static(id="document")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self._show_problems()
        self._build_tree()
        self.query_one("#plan-tree", Tree).focus()

    def _show_problems(self) -> None:
        found, advice = problems(self.spec), warnings(self.spec)
        lines = [f"[red]✗[/] {escape(str(p))}" for p in found[:3]]
        lines += [f"[yellow]![/] {escape(str(p))}" for p in advice[: max(0, 3 - len(lines))]]
        if (hidden := len(found) + len(advice) - len(lines)) > 0:
            lines.append(f"[dim]... {hidden} more: see problems.txt in the plan[/]")
        if not found:
            lines.insert(
                0,
                f"[green]✓[/] Ready to install {len(self.spec.nodes)} nodes "
                f"(Kubernetes {escape(self.spec.kubernetes.version)}).",
            )
        panel = self.query_one("#review-problems", Static)
        panel.update("\n".join(lines))
        panel.set_class(bool(found), "-invalid")

    def _build_tree(self) -> None:
        tree: Tree[Item] = self.query_one("#plan-tree", Tree)
        tree.clear()
        tree.show_root = False
        for name in ("cluster.yaml", "problems.txt", "kubeadm-config.yaml", "cni.yaml"):
            tree.root.add_leaf(name, data=name)
        for node in self.spec.nodes:
            os_info = self.plan.os[node.name]
            source = items.os_source(self.spec, self.facts, node.name)
            label = f"{escape(node.name)} [dim]{os_info} ({source})[/]"
            branch = tree.root.add(label, expand=node is self.spec.nodes[0])
            for planned in self.plan.steps(node.name):
                branch.add_leaf(f"{planned.number:02d} {planned.step.id}", data=planned)
        tree.cursor_line = 0  # the highlighted row is the document shown
        self._show("cluster.yaml")

    @on(Tree.NodeHighlighted, "#plan-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[Item]) -> None:
        item = event.node.data
        if item is None:
            return
        # Rendering a long manifest takes a moment: holding an arrow key shows only where it stops.
        if self._pending is not None:
            self._pending.stop()
        self._pending = self.set_timer(SHOW_DELAY, lambda: self._show(item))

    def _show(self, item: Item) -> None:
        document = self._document(item)
        syntax = Syntax(
            document.text,
            document.language,
            line_numbers=True,
            word_wrap=False,
            theme="monokai",
            background_color="default",
        )
        self.query_one("#document", Static).update(syntax)
        viewer = self.query_one("#viewer", VerticalScroll)
        viewer.border_title = escape(document.title)
        viewer.scroll_home(animate=False)

    def _document(self, item: Item) -> items.Document:
        if isinstance(item, PlannedStep):
            return items.step_script(self.plan, item, self.facts)
        if item == "kubeadm-config.yaml":
            return items.kubeadm_config(self.spec)
        if item == "problems.txt":
            return items.problem_list(problems(self.spec), warnings(self.spec))
        return items.cni_manifest(self.spec) if item == "cni.yaml" else items.cluster_file(self.spec)

    @on(Select.Changed, "#preview-os")
    def _preview_os(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and event.value != self.preview_os:
            self.preview_os = str(event.value)
            self.plan = items.make_plan(self.spec, self.facts, self.preview_os)
            self._build_tree()

    def action_focus_viewer(self) -> None:
        self.query_one("#viewer", VerticalScroll).focus()

    def blocker(self) -> str | None:
        found = problems(self.spec)
        return f"{found[0]}" if found else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Review is the last step: "Next" is hidden here, Install (i) moves on."""
        return action != "next"

    def action_install(self) -> None:
        if (why := self.blocker()) is not None:
            self.notify(why, title="Fix this before installing", severity="error", markup=False)
            return
        names = ", ".join(n.name for n in self.spec.nodes[:6]) + (" ..." if len(self.spec.nodes) > 6 else "")
        question = (
            f"Install Kubernetes {self.spec.kubernetes.version} on {len(self.spec.nodes)} nodes "
            f"({names})?\n\nThis changes those machines: packages, kernel settings, swap, firewall."
        )
        self.app.push_screen(ConfirmDialog("Install", question, yes="Install"), self._confirmed)

    def _confirmed(self, yes: bool | None) -> None:
        if yes:
            cast("K8sTuiApp", self.app).start_install(self.spec)
