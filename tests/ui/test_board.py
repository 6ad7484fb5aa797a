"""The install board driven by scripted engine events: selection, detail, retry, many nodes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from board_support import (
    FAILED_NODE,
    FAILED_STEP,
    FakeRunner,
    board_app,
    failed_run,
    feed,
    lab_spec,
)
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Log

from k8stui.engine.events import StepOutput
from k8stui.ui.screens.board import BoardScreen
from k8stui.ui.screens.node_detail import LogTail, NodeDetailScreen, display_line
from k8stui.ui.screens.summary import SummaryScreen
from k8stui.ui.widgets.board_grid import BoardGrid
from k8stui.ui.widgets.node_pane import PANE_LINES, NodePane, PaneTail

SIZE = (100, 30)


def pane(board: BoardScreen, node: str) -> NodePane:
    return board.query_one(f"#pane-{node}", NodePane)


async def test_failed_node_stands_out_and_panes_show_their_tails() -> None:
    app, board = board_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, board, failed_run())
        assert pane(board, FAILED_NODE).has_class("-failed")
        assert pane(board, "node-2").has_class("-done")
        assert pane(board, "cp-1").has_class("-running")
        assert not pane(board, "cp-1").has_class("-failed")
        tail = pane(board, FAILED_NODE).query_one(PaneTail)
        assert tail.lines[-1] == "E: Unable to locate package containerd.io"
        assert "1 failed" in str(board.query_one("#board-header").render())
        assert board.query_one("#board-hint").has_class("-failed")


async def test_arrows_select_and_enter_opens_the_detail(tmp_path: Path) -> None:
    app, board = board_app()
    log = tmp_path / f"{FAILED_NODE}.log"
    log.write_text("2026-11-27T14:40:00Z containerd err| E: Unable to locate package containerd.io\n"
                   "2026-11-27T14:40:01Z containerd k8stui| --- diagnostics: systemctl status containerd\n")
    board.runner = FakeRunner(board.bridge, board.spec, tmp_path)  # type: ignore[assignment]
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, board, failed_run())
        assert board.selected() == "cp-1"
        await pilot.press("down", "right")  # two columns at 100 wide: node-2, then node-3
        assert board.selected() == FAILED_NODE
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, NodeDetailScreen) and detail.node == FAILED_NODE
        table = detail.query_one(DataTable)
        row = table.get_row(FAILED_STEP)
        assert str(row[2]) == "FAILED" and row[4] == "1"
        assert "E: Unable to locate package" in str(detail.query_one("#detail-failure").render())
        await pilot.pause(0.3)
        last = "14:40:01 containerd k8stui| --- diagnostics: systemctl status containerd"
        assert detail.query_one(Log).lines[-1] == last
        await pilot.press("escape")
        assert app.screen is board


async def test_click_opens_the_detail() -> None:
    app, board = board_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, board, failed_run())
        await pilot.click(f"#pane-{FAILED_NODE}")
        await pilot.pause()
        assert isinstance(app.screen, NodeDetailScreen) and app.screen.node == FAILED_NODE


async def test_r_retries_the_failed_step_then_the_summary_opens(tmp_path: Path) -> None:
    app, board = board_app()
    runner = FakeRunner(board.bridge, board.spec, tmp_path)
    board.runner = runner  # type: ignore[assignment]
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, board, failed_run())
        await pilot.press("r")  # cp-1 is selected: nothing failed there
        assert runner.retries == []
        board.query_one(BoardGrid).select_node(FAILED_NODE)
        await pilot.press("r")
        for _ in range(20):
            await pilot.pause(0.05)
            if isinstance(app.screen, SummaryScreen):
                break
        assert runner.retries == [(FAILED_NODE, FAILED_STEP, True)]
        assert not pane(board, FAILED_NODE).has_class("-failed")
        assert isinstance(app.screen, SummaryScreen)


async def test_a_retry_asked_during_a_run_waits_for_it(tmp_path: Path) -> None:
    app, board = board_app()
    runner = FakeRunner(board.bridge, board.spec, tmp_path)
    board.runner = runner  # type: ignore[assignment]
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, board, failed_run())
        board.active = True  # the first run is still going (cp-1 is in init)
        board.retry(FAILED_NODE)
        assert board.queued == [(FAILED_NODE, FAILED_STEP)] and runner.retries == []
        board.active = False
        board._after_run(None)  # the run ended: the queued retry starts
        await pilot.pause(0.2)
        assert runner.retries == [(FAILED_NODE, FAILED_STEP, True)]


async def select_by_key(app: App[None], board: BoardScreen, key: str, timeout: float = 5.0) -> float:
    """Seconds from a key press to the new selection (pilot.press would also wait for an idle CPU)."""
    before = board.selected()
    started = time.perf_counter()
    app.post_message(events.Key(key, None))
    while board.selected() == before and time.perf_counter() - started < timeout:
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


async def test_fifty_nodes_stay_responsive_and_only_visible_panes_are_written() -> None:
    spec = lab_spec(workers=59)
    app, board = board_app(spec)
    names = [n.name for n in spec.nodes]
    async with app.run_test(size=(140, 45)) as pilot:
        await feed(pilot, board, failed_run(spec))
        latencies = []
        for burst in range(10):
            for name in names:  # 60 nodes x 100 lines per burst
                lines = tuple(("out", f"{name} {burst}.{i}") for i in range(100))
                board.bridge(StepOutput(name, "kernel", lines))
            latencies.append(await select_by_key(app, board, "down" if burst < 7 else "up"))
            await asyncio.sleep(0.1)
        assert max(latencies) < 0.3, f"key latencies with output pouring in: {latencies}"
        grid = board.query_one(BoardGrid)
        visible = {p.node for p in grid.visible_panes()}
        for _ in range(20):  # tails wait out the last key, then each flush writes one band of panes
            await pilot.pause(0.1)
            if all(pane(board, node).query_one(PaneTail).line_count for node in visible):
                break
        assert board.selected() == "node-12" and board.selected() in visible and len(visible) < len(names)
        written = {p.node for p in grid.panes if p.query_one(PaneTail).line_count}
        hidden = set(names) - written
        assert hidden and not hidden & visible
        assert max(p.query_one(PaneTail).line_count for p in grid.panes) <= PANE_LINES


def test_display_line_and_log_tail(tmp_path: Path) -> None:
    assert display_line("2026-11-27T14:40:00Z init out| hello") == "14:40:00 init out| hello"
    assert display_line("no stamp here") == "no stamp here"
    path = tmp_path / "n.log"
    path.write_text("".join(f"line {i}\n" for i in range(100)) + "partial")
    tail = LogTail(path)
    lines = tail.read(first=40)
    assert lines[-1] == "line 99" and "line 0" not in lines and not lines[0].startswith("ine")
    with open(path, "a") as handle:
        handle.write(" end\nnext\n")
    assert tail.read() == ["partial end", "next"]
    assert LogTail(tmp_path / "missing.log").read() == []


class _TailApp(App[None]):
    CSS = "PaneTail { height: 3; }"

    def compose(self) -> ComposeResult:
        yield PaneTail(max_lines=5)


async def test_pane_tail_shows_the_newest_lines_and_masks_control_characters() -> None:
    app = _TailApp()
    async with app.run_test(size=(30, 5)) as pilot:
        tail = app.query_one(PaneTail)
        tail.write_lines(["one", "two\tx", "", "three\x1b[31m", "four\nfive", "six"])
        await pilot.pause()
        assert tail.lines == ["two     x", "three\ufffd[31m", "four", "five", "six"]  # 5 kept, "" dropped
        shown = [tail.render_line(y).text.rstrip() for y in range(3)]
        assert shown == ["four", "five", "six"]  # the end, as far as the height goes
