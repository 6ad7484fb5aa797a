"""Start: open a cluster file, start a new cluster, or resume a previous run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static

from k8stui.model.cluster import ClusterSpec
from k8stui.model.problems import ClusterFileError
from k8stui.ui.files import is_file, load_cluster
from k8stui.ui.runs import RunInfo, list_runs
from k8stui.ui.validation import model_errors


@dataclass(frozen=True)
class StartChoice:
    """What the operator chose: a spec to edit and, when it came from a file, that file."""

    spec: ClusterSpec
    path: Path | None


class StartScreen(Screen[StartChoice]):
    """The first screen; dismisses with the spec the wizard will edit."""

    TITLE = "k8stui"
    SUB_TITLE = "Install Kubernetes with kubeadm over SSH"
    BINDINGS = [
        Binding(
            "ctrl+o", "focus_open", "Open file", id="start.open", tooltip="Open an existing cluster file"
        ),
        Binding("ctrl+n", "new", "New cluster", id="start.new", tooltip="Start a new cluster with defaults"),
        Binding("ctrl+r", "focus_runs", "Resume", id="start.resume", tooltip="Resume a previous run"),
        Binding("escape", "back", "Back", id="start.back", tooltip="Back to the cluster being edited"),
    ]

    def __init__(
        self,
        state_root: Path,
        initial_path: str = "cluster.yaml",
        current: StartChoice | None = None,
        unsaved: bool = False,
    ) -> None:
        super().__init__()
        self.state_root = state_root
        self.initial_path = initial_path
        self.current = current  # the cluster the wizard was editing: Esc goes back to it unchanged
        self.unsaved = unsaved
        self.runs: list[RunInfo] = []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "back" or self.current is not None

    def action_back(self) -> None:
        if self.current is not None:
            self.dismiss(self.current)

    def _intro(self) -> str:
        text = "Open a cluster file, start a new cluster with defaults, or resume a previous run. "
        if self.current is not None and self.unsaved:
            name = escape(self.current.spec.name)
            return text + f"[b]{name} has unsaved changes[/]: [b]esc[/] goes back to it (then ctrl+s)."
        return text + "[b]ctrl+p[/] lists every action."

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="start"):
            yield Static(self._intro(), id="start-intro")
            with Vertical(classes="card", id="open-card") as card:
                card.border_title = "Open a cluster file"
                with Horizontal(classes="row"):
                    yield Input(self.initial_path, placeholder="path/to/cluster.yaml", id="open-path")
                    yield Button("Open", id="open", variant="primary")
                yield Static("", classes="error", id="open-error")
            with Vertical(classes="card", id="new-card") as card:
                card.border_title = "Start a new cluster"
                with Horizontal(classes="row"):
                    yield Label("Name", classes="field-label")
                    yield Input("lab", placeholder="lab", id="new-name")
                    yield Button("New", id="new", variant="success")
                yield Static("", classes="error", id="new-error")
            with Vertical(classes="card", id="runs-card") as card:
                card.border_title = "Resume a previous run"
                yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
                yield Static("", id="runs-empty", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.add_columns("Cluster", "Last update", "OK", "Failed", "Cluster file")
        self.runs = list_runs(self.state_root)
        for run in self.runs:
            when = run.updated.strftime("%Y-%m-%d %H:%M") if run.updated else "-"
            table.add_row(run.name, when, str(run.ok), str(run.failed), run.file_label)
        table.display = bool(self.runs)
        self._say("#open-error", "")
        self._say("#new-error", "")
        self._say("#runs-empty", "" if self.runs else f"No previous runs under {self.state_root}.")
        self.query_one("#open-path", Input).focus()

    def action_focus_open(self) -> None:
        self.query_one("#open-path", Input).focus()

    def action_focus_runs(self) -> None:
        if self.runs:
            self.query_one("#runs", DataTable).focus()
        else:
            self.notify("There are no previous runs to resume.", severity="warning")

    @on(Button.Pressed, "#open")
    @on(Input.Submitted, "#open-path")
    def open_file(self) -> None:
        text = self.query_one("#open-path", Input).value.strip()
        self._open(Path(text).expanduser() if text else None, "#open-error")

    def _say(self, widget_id: str, text: str) -> None:
        """An error line takes no room until it has something to say."""
        widget = self.query_one(widget_id, Static)
        widget.update(escape(text))
        widget.display = bool(text)

    def _open(self, path: Path | None, error_id: str) -> None:
        if path is None or not is_file(path):
            self._say(error_id, f"{path}: no such file" if path else "Type the path of a cluster file.")
            return
        try:
            spec = load_cluster(path)
        except ClusterFileError as exc:
            self._say(error_id, "\n".join(str(p) for p in exc.problems[:6]) or str(exc))
            return
        self.dismiss(StartChoice(spec, path))

    @on(Button.Pressed, "#new")
    @on(Input.Submitted, "#new-name")
    def action_new(self) -> None:
        name = self.query_one("#new-name", Input).value.strip() or "lab"
        errors = model_errors(ClusterSpec, {"name": name})
        if errors:
            self._say("#new-error", next(iter(errors.values())))
            return
        self.dismiss(StartChoice(ClusterSpec(name=name), None))

    @on(Input.Changed)
    def clear_errors(self, event: Input.Changed) -> None:
        self._say("#open-error" if event.input.id == "open-path" else "#new-error", "")

    @on(DataTable.RowSelected, "#runs")
    def resume(self, event: DataTable.RowSelected) -> None:
        run = self.runs[event.cursor_row]
        if run.cluster_file is None:
            self._say("#runs-empty", f"{run.name}: its cluster file is not known; open it above.")
            return
        self._open(run.cluster_file, "#runs-empty")
