"""Snapshots of the install board, the node detail and the summary, driven by scripted engine events.

Times come from the events and a frozen clock, so the pictures do not move
(update with `pytest --snapshot-update` after looking at them).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from board_support import FAILED_NODE, HostApp, board_app, failed_run, feed, lab_spec, summary

from k8stui.ui.screens.board import INPUT_FIRST_SECONDS, BoardScreen
from k8stui.ui.screens.summary import SummaryScreen
from k8stui.ui.widgets.board_grid import BoardGrid

SMALL, LARGE = (100, 30), (140, 45)
LOG = ("2026-11-27T14:40:00Z containerd k8stui| === 11-containerd.sh run (timeout 900s)\n"
       "2026-11-27T14:40:01Z containerd out| Reading package lists...\n"
       "2026-11-27T14:40:02Z containerd err| E: Unable to locate package containerd.io\n"
       "2026-11-27T14:40:02Z containerd k8stui| === exit 1\n"
       "2026-11-27T14:40:02Z containerd k8stui| --- diagnostics: systemctl status containerd --no-pager\n"
       "2026-11-27T14:40:03Z containerd err| Unit containerd.service could not be found.\n")


class _LogsHere:
    """The board's runner, as far as the detail screen needs it: logs in the current directory."""

    class logs:  # mimics `runner.logs`
        @staticmethod
        def path(node: str) -> Path:
            return Path(f"{node}.log")


def board_run_before(board: BoardScreen, events: list | None = None):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await feed(pilot, board, events or failed_run())
    return run_before


class TestBoardSnapshots:
    @pytest.mark.parametrize("size", [SMALL, LARGE], ids=["100x30", "140x45"])
    def test_mid_run_one_failed(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        app, board = board_app()
        assert snap_compare(app, terminal_size=size, run_before=board_run_before(board))

    def test_fifty_nodes_compact(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        spec = lab_spec(workers=49)
        app, board = board_app(spec)
        assert snap_compare(app, terminal_size=LARGE, run_before=board_run_before(board, failed_run(spec)))

    def test_failed_node_selected(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        app, board = board_app()

        async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
            board.query_one(BoardGrid).select_node(FAILED_NODE)
            await pilot.pause(INPUT_FIRST_SECONDS + 0.05)  # tails wait that long after a selection
            await feed(pilot, board, failed_run())

        assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


class TestNodeDetailSnapshots:
    @pytest.mark.parametrize("size", [SMALL, LARGE], ids=["100x30", "140x45"])
    def test_failed_node(self, snap_compare, size, tmp_path: Path,  # type: ignore[no-untyped-def]
                         monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)  # the log's path shows in the title: keep it relative
        Path(f"{FAILED_NODE}.log").write_text(LOG)
        app, board = board_app()
        board.runner = _LogsHere()  # type: ignore[assignment]

        async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
            await feed(pilot, board, failed_run())
            board.open_node(FAILED_NODE)
            await pilot.pause(0.4)  # the log is read after the first refresh

        assert snap_compare(app, terminal_size=size, run_before=run_before)


class TestSummarySnapshots:
    @pytest.mark.parametrize("ok", [True, False], ids=["installed", "with-failures"])
    def test_summary(self, snap_compare, ok: bool) -> None:  # type: ignore[no-untyped-def]
        screen = SummaryScreen(summary(ok), lab_spec(), save_dir=Path("state/lab"), config="lab.yaml")
        assert snap_compare(HostApp(screen), terminal_size=SMALL)  # type: ignore[arg-type]
