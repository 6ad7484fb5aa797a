"""`k8stui demo` end to end by keys on SIMULATED nodes: wizard, install, failure, retry, summary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from k8stui.engine.state import RunState
from k8stui.ui.demo import FAILING_STEP, DemoApp, demo_app, start_sim, victim_of
from k8stui.ui.screens.board import BoardScreen
from k8stui.ui.screens.node_detail import NodeDetailScreen
from k8stui.ui.screens.review import ReviewScreen
from k8stui.ui.screens.summary import SummaryScreen

SIZE = (100, 30)
SPEED = 20.0  # 75 ms per simulated step


async def until(pilot, ready: Callable[[], bool], timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Wait (bounded) for a condition the app reaches on its own."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_demo_flow_by_keys(tmp_path: Path) -> None:
    victim = victim_of(4)
    async with await start_sim(tmp_path, 4, failure=True, speed=SPEED) as sim:
        app = demo_app(sim, tmp_path)
        assert isinstance(app, DemoApp) and app.spec.name == "sim"
        async with app.run_test(size=SIZE) as pilot:
            assert "SIMULATED" in str(app.format_title("k8stui", ""))
            await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")  # inventory -> network -> versions -> review
            assert isinstance(app.screen, ReviewScreen)
            await pilot.press("i", "y")  # install, confirmed
            await until(pilot, lambda: isinstance(app.screen, BoardScreen))
            board = app.screen
            assert isinstance(board, BoardScreen)
            await until(pilot, lambda: board.model.finished is not None)
            assert board.model.rows[victim].failure is not None  # the injected failure, and only it
            assert [n for n, r in board.model.rows.items() if r.failure] == [victim]
            assert board.model.rows["node-1"].done == len(board.model.rows["node-1"].steps)
            while board.selected() != victim:  # arrows to the failed node (bounded by the node count)
                await pilot.press("right")
            await pilot.press("enter")
            assert isinstance(app.screen, NodeDetailScreen) and app.screen.node == victim
            await pilot.press("r")  # retry the failed step, then continue
            await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
            await pilot.pause()  # mounted and drawn
            summary = app.screen
            assert isinstance(summary, SummaryScreen) and summary.summary.ok
            state = RunState.open("sim", tmp_path / "state")
            join = state.outputs["join_command"]
            assert summary.summary.join_command == join
            assert sim.token in join and sim.ca_hash in join
            assert join.split()[2] in str(summary.query_one("#join-command").render())
            assert state.status(victim, FAILING_STEP).done  # type: ignore[union-attr]
            assert state.status(victim, "join").done  # type: ignore[union-attr]
            assert set(summary.summary.node_status.values()) == {"Ready"}


async def test_demo_without_failure_goes_straight_to_the_summary(tmp_path: Path) -> None:
    async with await start_sim(tmp_path, 2, failure=False, speed=SPEED) as sim:
        app = demo_app(sim, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            app.action_goto("review")
            await pilot.pause()
            await pilot.press("i", "y")
            await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
            await pilot.pause()
            assert app.screen.summary.ok  # type: ignore[attr-defined]
            await pilot.press("escape")
            assert isinstance(app.screen, BoardScreen)


def test_run_cleans_its_temporary_directory(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`run` starts the sim in a temp dir and removes it when the app exits."""
    import argparse
    import tempfile

    from k8stui.ui import demo

    seen: list[Path] = []

    async def fake_run(workdir: Path, args: argparse.Namespace) -> None:
        seen.append(workdir)
        (workdir / "marker").write_text("x")
        await asyncio.sleep(0)

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(demo, "_run", fake_run)
    args = argparse.Namespace(nodes=4, no_failure=False, speed=1.0)
    assert demo.run(args) == 0
    assert seen and not seen[0].exists()
    assert demo.run(argparse.Namespace(nodes=0, no_failure=False, speed=1.0)) == 2
