"""The install board: one pane per node, live; select a node for its detail, `r` retries its failed step.

The Runner runs as a worker in the app's event loop; its events reach this screen through the
EngineBridge (batched, ~10 Hz). A retry asked for while a run is still going waits for that run to end:
the Runner drives one run at a time, and the healthy nodes of the current run keep going meanwhile.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from k8stui.engine.events import Summary
from k8stui.engine.lock import LockHeld, RunLock
from k8stui.engine.runner import Runner
from k8stui.engine.secrets_input import SecretsError
from k8stui.engine.ssh import ConnectOptions
from k8stui.model.cluster import ClusterSpec
from k8stui.ui.dialogs.host_key import HostKeyDialog, HostKeyInfo
from k8stui.ui.engine_bridge import EngineBridge, EngineEvents, EngineSetup, OutputReady, RunnerFactory
from k8stui.ui.screens.node_detail import NodeDetailScreen
from k8stui.ui.widgets.board_grid import BoardGrid
from k8stui.ui.widgets.board_model import BoardModel, NodeState, clock_text
from k8stui.ui.widgets.node_pane import MARKS, NodePane

Clock = Callable[[], float]
# After a selection change, pane tails wait this long: the next frame then only redraws the selection,
# so the key's effect shows at once; the tails catch up at the next flush (~100 ms), nothing is lost.
INPUT_FIRST_SECONDS = 0.15
PANES_PER_FLUSH = 8  # tails written per flush when more panes are in view


def header_text(model: BoardModel, now: float) -> str:
    """`cluster sim · 4 nodes   ✓ 2 done  ▶ 1 running  ✗ 1 failed   1:07`"""
    counts = model.counts()
    parts = [f"{MARKS[s]} {counts[s]} {s.value}" for s in NodeState if counts[s] or s is NodeState.FAILED]
    state = "running" if model.running else ("finished" if model.finished else "starting")
    return (f"cluster {model.cluster} · {len(model.rows)} nodes   {'  '.join(parts)}   "
            f"{state} {clock_text(model.elapsed(now))}")


def hint_text(model: BoardModel) -> str:
    failed = [row for row in model.rows.values() if row.failure is not None]
    if not failed:
        return "Arrows select a node · Enter shows its log and steps · s shows the summary once done"
    names = ", ".join(f"{row.name} ({row.failure.step})" for row in failed[:3] if row.failure)
    more = f" +{len(failed) - 3}" if len(failed) > 3 else ""
    return f"Failed: {names}{more} · select it, Enter for the log, r to retry the step and continue"


def install_screen(state_root: Path | None = None,
                   options: ConnectOptions | None = None) -> Callable[[ClusterSpec], BoardScreen]:
    """The App's `install_screen`: a board that installs `spec`, its state under `state_root`."""
    setup = EngineSetup(state_root, options)
    return lambda spec: BoardScreen(spec, setup.factory(spec))


class BoardScreen(Screen[None]):
    """Start it with a RunnerFactory to install; without one it only shows the events fed to `bridge`."""

    BINDINGS = [
        Binding("enter", "open", "Node detail", id="board.open", tooltip="Log and steps of the node"),
        Binding("r", "retry", "Retry", id="board.retry", tooltip="Retry the selected node's failed step"),
        Binding("s", "summary", "Summary", id="board.summary", tooltip="Join command, kubeconfig, nodes"),
        Binding("escape", "back", "Back", id="board.back", tooltip="Back to the review (no run going)"),
    ]

    def __init__(self, spec: ClusterSpec, runner_factory: RunnerFactory | None = None, *,
                 clock: Clock = time.time, bridge: EngineBridge | None = None) -> None:
        super().__init__(classes="board")
        self.spec = spec
        self.model = BoardModel.for_spec(spec)
        self.bridge = bridge or EngineBridge()
        self.runner_factory = runner_factory
        self.runner: Runner | None = None
        self.clock = clock
        self.queued: list[tuple[str, str]] = []  # retries asked for while a run was going
        self.active = False  # a Runner call is in flight
        self.stale: set[str] = set()  # nodes whose pane state is not drawn yet (hidden panes wait)
        self._turn = 0  # which band of the visible panes gets its tail on this flush
        self._header_shown = ("", "")  # the header and hint texts on screen
        self._lock: RunLock | None = None
        self.sub_title = f"installing cluster {spec.name}"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(header_text(self.model, self.clock()), id="board-header", markup=False)
        yield Static(hint_text(self.model), id="board-hint", markup=False)
        with BoardGrid(id="board-grid"):
            for row in self.model.rows.values():
                yield NodePane(row)
        yield Footer()

    def on_mount(self) -> None:
        # Output storms allocate fast, so the collector runs full passes often; each one walked every
        # object of the app (~150k: modules, CSS, widgets), 40-150 ms with the loop stopped. Freezing
        # them (after one collection, so no garbage is frozen) leaves those passes the run's own objects.
        gc.collect()
        gc.freeze()
        self.bridge.start(self)
        self.set_interval(1.0, self._tick, name="board-clock")
        grid = self.query_one(BoardGrid)
        grid.select(0, by_user=False)
        grid.focus()
        if self.runner_factory is not None:
            self.call_after_refresh(self._start_install)

    def on_unmount(self) -> None:
        gc.unfreeze()  # what the board held may be collected again
        self.bridge.stop()
        if self.runner is not None and self.active:
            self.runner.cancel()
        if self._lock is not None:
            self._lock.release()

    # -- runs ------------------------------------------------------------------------------------

    def _start_install(self) -> None:
        assert self.runner_factory is not None
        try:
            self.runner = self.runner_factory(self.bridge, self._ask_host_key)
            self._lock = RunLock(self.runner.state.lock_path).acquire()
        except (SecretsError, LockHeld, OSError) as err:
            self.notify(str(err), title="Cannot start the install", severity="error", timeout=30)
            return
        self.start_run(self.runner.run)

    def start_run(self, call: Callable[[], Awaitable[Summary]]) -> None:
        self.active = True
        self.run_worker(self._drive(call), name="install", group="install", exit_on_error=False)

    async def _drive(self, call: Callable[[], Awaitable[Summary]]) -> None:
        try:
            summary: Summary | None = await call()
        except (ValueError, OSError) as err:
            self.notify(str(err), title="Run stopped", severity="error", timeout=30)
            summary = None
        finally:
            self.active = False
        self.bridge.flush()  # the run's last events are handled before what follows
        self.call_later(self._after_run, summary)

    def _after_run(self, summary: Summary | None) -> None:
        if self.queued and self.runner is not None:
            node, step = self.queued.pop(0)
            self._retry_now(node, step)
        elif summary is not None and summary.ok:
            while isinstance(self.app.screen, NodeDetailScreen):
                self.app.pop_screen()  # a view only: the summary comes back to the board
            self.action_summary()
        elif summary is not None and not summary.cancelled:
            self.notify(hint_text(self.model), title="The run finished with failures", severity="warning")

    async def _ask_host_key(self, host: str, key_type: str, fingerprint: str) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.app.push_screen(HostKeyDialog(HostKeyInfo(host, key_type, fingerprint)),
                             lambda yes: answer.done() or answer.set_result(bool(yes)))
        return await answer

    # -- engine events ---------------------------------------------------------------------------

    @on(EngineEvents)
    def _events(self, message: EngineEvents) -> None:
        changed: set[str] = set()
        for event in message.events:
            changed |= self.model.apply(event)
        self.stale |= changed
        if self.is_current:
            self._show_visible(self.clock())
            self._show_header(self.clock())
        for screen in self.app.screen_stack:
            if isinstance(screen, NodeDetailScreen) and screen.node in changed:
                screen.node_changed()

    @on(OutputReady)
    def _output(self) -> None:
        if not self.is_current:
            return  # hidden behind the detail or summary: the bridge keeps the tails meanwhile
        grid = self.query_one(BoardGrid)
        if time.monotonic() - grid.selected_at < INPUT_FIRST_SECONDS:
            return
        self._show_visible(self.clock())  # panes scrolled into view catch up here
        visible = grid.visible_panes()
        self._turn += 1
        # Many panes in view: one band of them per flush (24 panes: each at ~3 Hz), so a frame never
        # repaints every tail at once and a key press is not stuck behind it. A band of neighbours,
        # not every third pane: the frame renders what lies within the box around the changes.
        groups = max(1, -(-len(visible) // PANES_PER_FLUSH))
        size = -(-len(visible) // groups)
        start = self._turn % groups * size
        for pane in visible[start:start + size]:
            lines = self.bridge.take(pane.node)
            if lines:
                pane.write_lines(lines)

    def _show_visible(self, now: float) -> None:
        """Redraw the state of visible panes whose node changed; hidden ones wait until they show."""
        if not self.stale:
            return
        for pane in self.query_one(BoardGrid).visible_panes():
            if pane.node in self.stale:
                self.stale.discard(pane.node)
                pane.show(self.model.rows[pane.node], now)

    def on_screen_resume(self) -> None:
        """Back from the detail or the summary: draw what changed meanwhile."""
        self._tick()

    def _tick(self) -> None:
        if not self.is_current:
            return
        now = self.clock()
        self._show_visible(now)  # e.g. panes the mouse wheel scrolled into view
        self._show_header(now)
        for pane in self.query_one(BoardGrid).visible_panes():
            row = self.model.rows[pane.node]
            if row.running:
                pane.show(row, now)

    def _show_header(self, now: float) -> None:
        # Only when the text changed (the clock ticks once a second, events come at ~10 Hz): a Static
        # repaints on every update, and a dirty top row stretches the frame's render box up to it.
        shown = (header_text(self.model, now), hint_text(self.model))
        if shown == self._header_shown:
            return
        self._header_shown = shown
        self.query_one("#board-header", Static).update(shown[0], layout=False)
        hint = self.query_one("#board-hint", Static)
        hint.update(shown[1], layout=False)
        hint.set_class(any(r.failure for r in self.model.rows.values()), "-failed")

    # -- actions ---------------------------------------------------------------------------------

    def selected(self) -> str | None:
        pane = self.query_one(BoardGrid).selected
        return pane.node if pane is not None else None

    def action_open(self) -> None:
        if (node := self.selected()) is not None:
            self.open_node(node)

    @on(NodePane.Opened)
    def _opened(self, message: NodePane.Opened) -> None:
        self.query_one(BoardGrid).select_node(message.node)
        self.open_node(message.node)

    def open_node(self, node: str) -> None:
        log = self.runner.logs.path(node) if self.runner is not None else None
        self.app.push_screen(NodeDetailScreen(self.model.rows[node], log, self.retry))

    def action_retry(self) -> None:
        if (node := self.selected()) is not None:
            self.retry(node)

    def retry(self, node: str) -> None:
        """Retry `node`'s failed step and continue; queued while another run is going."""
        failure = self.model.rows[node].failure
        if failure is None or self.runner is None:
            self.notify(f"{node} has no failed step to retry.", severity="warning")
        elif self.active:
            if (node, failure.step) not in self.queued:
                self.queued.append((node, failure.step))
            self.notify(f"Retry of {failure.step} on {node} starts when the running nodes finish.",
                        title="Retry queued")
        else:
            self._retry_now(node, failure.step)

    def _retry_now(self, node: str, step: str) -> None:
        runner = self.runner
        assert runner is not None
        self.notify(f"Retrying {step} on {node}, then the steps after it.", title="Retry")
        self.start_run(lambda: runner.retry(node, step, cont=True))

    def action_summary(self) -> None:
        from k8stui.ui.screens.summary import SummaryScreen

        if self.model.summary is None:
            self.notify("The summary is ready when the run has finished.", severity="warning")
            return
        runner = self.runner
        factory = runner.session_factory if runner is not None else None
        config = str(getattr(self.app, "path", None) or "cluster.yaml")
        save_dir = runner.state.dir if runner is not None else None
        self.app.push_screen(SummaryScreen(self.model.summary, self.spec, factory, save_dir, config))

    def action_back(self) -> None:
        if self.active:
            self.notify("The install is running: wait for it, or quit (ctrl+q) to cancel it.",
                        severity="warning")
        else:
            self.dismiss(None)
