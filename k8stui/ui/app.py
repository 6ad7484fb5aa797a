"""The k8stui Textual app: the wizard's flow, saving the cluster file, and the seam to the install board."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import Facts
from k8stui.ui.dialogs.confirm import ConfirmDialog
from k8stui.ui.files import dump_cluster, save_cluster
from k8stui.ui.palette import WizardCommands
from k8stui.ui.runs import remember_cluster_file, run_facts, state_root
from k8stui.ui.screens.inventory import HostKeyPrompt, InventoryScreen, Probe
from k8stui.ui.screens.network import NetworkScreen
from k8stui.ui.screens.review import ReviewScreen
from k8stui.ui.screens.start import StartChoice, StartScreen
from k8stui.ui.screens.versions import VersionsScreen
from k8stui.ui.screens.wizard import Nav, WizardScreen

InstallScreenFactory = Callable[[ClusterSpec], Screen[object]]


async def ssh_probe(spec: ClusterSpec, node: NodeSpec, prompt: HostKeyPrompt) -> Facts:
    """The real SSH probe, imported late: asyncssh loads only when a connection test starts."""
    from k8stui.ui.facts_probe import gather_facts

    return await gather_facts(spec, node, prompt)


class K8sTuiApp(App[None]):
    """`k8stui` (or `k8stui -f cluster.yaml`): Start -> Inventory -> Network -> Version -> Review."""

    CSS_PATH = "app.tcss"
    TITLE = "k8stui"
    COMMANDS = App.COMMANDS | {WizardCommands}
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="app.save", tooltip="Save the cluster file"),
        Binding(
            "f2", "save_as", "Save as", id="app.save_as", show=False, tooltip="Save the cluster file as..."
        ),
    ]
    # The install board sets this (BoardScreen(spec, runner_factory)); None: save and name the CLI command.
    INSTALL_SCREEN: ClassVar[InstallScreenFactory | None] = None

    def __init__(
        self,
        spec: ClusterSpec | None = None,
        path: Path | None = None,
        *,
        state_dir: Path | None = None,
        probe: Probe | None = None,
        install_screen: InstallScreenFactory | None = None,
    ) -> None:
        super().__init__()
        self.spec = spec or ClusterSpec()
        self.path = path
        self.state_dir = state_dir or state_root()
        self.probe = probe or ssh_probe
        self.install_screen = install_screen or self.INSTALL_SCREEN
        self.facts: dict[str, Facts] = {}  # node name -> gathered facts, shared by Inventory and Review
        self._opened_with_file = spec is not None or path is not None
        self._saved_text = dump_cluster(self.spec)  # what is on disk (or the untouched defaults)

    def on_mount(self) -> None:
        if self._opened_with_file:
            self._load_run_facts()
            self.show_step("inventory")
        else:
            self.show_start()

    # --- flow -----------------------------------------------------------------------------------

    def show_start(self, from_wizard: bool = False) -> None:
        """The Start screen; coming back from the wizard, Esc there returns to the same cluster."""
        initial = str(self.path) if self.path else "cluster.yaml"
        current = StartChoice(self.spec, self.path) if from_wizard else None
        self.push_screen(StartScreen(self.state_dir, initial, current, self.unsaved), self._started)

    def _started(self, choice: StartChoice | None) -> None:
        if choice is None:
            return
        if choice.spec is self.spec:  # Esc: back to the cluster being edited, nothing reloaded
            self.show_step("inventory")
            return
        self.spec, self.path = choice.spec, choice.path
        self._saved_text = dump_cluster(self.spec)
        self.facts.clear()
        self._load_run_facts()
        self.show_step("inventory")

    def _load_run_facts(self) -> None:
        """Facts from a previous run of this cluster: Review can plan with the real OS at once."""
        names = {n.name for n in self.spec.nodes}
        found = run_facts(self.state_dir, self.spec.name)
        self.facts.update({name: f for name, f in found.items() if name in names})

    def wizard_screen(self, step: str) -> WizardScreen:
        if step == "inventory":
            return InventoryScreen(self.spec, self.facts, self.probe)
        if step == "network":
            return NetworkScreen(self.spec)
        if step == "versions":
            return VersionsScreen(self.spec)
        if step == "review":
            return ReviewScreen(self.spec, self.facts)
        raise ValueError(f"no wizard step {step!r}")

    def show_step(self, step: str) -> None:
        self.push_screen(self.wizard_screen(step), self._navigated)

    def _navigated(self, nav: Nav | None) -> None:
        if nav is None:
            return
        self.spec = nav.spec
        if nav.to == "start":
            self.show_start(from_wizard=True)
        else:
            self.show_step(nav.to)

    def action_goto(self, step: str) -> None:
        """Jump to a step (palette, step bar clicks): the current step hands its spec back first."""
        if isinstance(self.screen, WizardScreen):
            if step != self.screen.STEP:
                self.screen.leave(step)
        elif step != "start":
            self.notify("Open a cluster file or start a new one first.", severity="warning")

    # --- saving ---------------------------------------------------------------------------------

    def current_spec(self) -> ClusterSpec:
        """The spec as the visible step has it (it may hold edits the App has not received yet)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, WizardScreen):
                return screen.spec
        return self.spec

    def action_save(self) -> None:
        if self.path is None:
            self.action_save_as()
        else:
            self.save_to(self.path)

    def action_save_as(self, then: Callable[[Path], None] | None = None) -> None:
        from k8stui.ui.dialogs.save_as import SaveAsDialog

        def chosen(path: Path | None) -> None:
            if path is not None and self.save_to(path) and then is not None:
                then(path)

        suggestion = str(self.path) if self.path else f"{self.current_spec().name}.yaml"
        self.push_screen(SaveAsDialog(suggestion), chosen)

    def save_to(self, path: Path) -> bool:
        try:
            save_cluster(self.current_spec(), path)
        except (OSError, ValueError) as exc:  # ValueError: a path the OS cannot take (NUL byte)
            reason = getattr(exc, "strerror", None) or exc
            self.notify(f"Cannot save {path}: {reason}", title="Save failed", severity="error", markup=False)
            return False
        self.path = path
        self._saved_text = dump_cluster(self.current_spec())
        self.notify(f"Saved {path}.", title="Cluster file", markup=False)
        return True

    @property
    def unsaved(self) -> bool:
        return dump_cluster(self.current_spec()) != self._saved_text

    async def action_quit(self) -> None:
        """Quit; with unsaved edits, ask first (No is the default)."""
        if not self.unsaved:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        question = "The cluster file has unsaved changes. Quit anyway? (ctrl+s saves)"
        self.push_screen(ConfirmDialog("Quit", question, yes="Quit"), answered)

    # --- install --------------------------------------------------------------------------------

    def start_install(self, spec: ClusterSpec) -> None:
        """Review's Install (already confirmed): the file is saved first, so a run can always be redone."""
        self.spec = spec
        if self.path is None:
            self.action_save_as(then=lambda path: self._install(spec, path))
        elif self.save_to(self.path):
            self._install(spec, self.path)

    def _install(self, spec: ClusterSpec, path: Path) -> None:
        try:
            remember_cluster_file(self.state_dir, spec.name, path)
        except OSError as exc:  # resuming from Start is a convenience: never block an install on it
            self.notify(
                f"Could not note the cluster file for resuming: {exc}", severity="warning", markup=False
            )
        if self.install_screen is not None:
            self.push_screen(self.install_screen(spec))
            return
        self.notify(
            f"Run the install with:  k8stui apply -f {path}",
            title="Saved: install from the shell",
            timeout=30,
            markup=False,
        )
