"""The Summary screen: copy, save (0600), regenerate the join command; and what it says."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

from board_support import JOIN, HostApp, lab_spec, summary

from k8stui.model.cluster import NodeSpec
from k8stui.ui.screens.summary import SummaryScreen
from k8stui.ui.widgets import summary_info as info

SIZE = (100, 30)
NEW_JOIN = ("kubeadm join 10.0.0.11:6443 --token zyxwvu.9876543210fedcba "
            "--discovery-token-ca-cert-hash sha256:" + "ab" * 32)


class FakeSession:
    """Answers `kubeadm token create --print-join-command` like a control plane (or fails)."""

    def __init__(self, node: NodeSpec, code: int = 0) -> None:
        self.node = node
        self.code = code
        self.commands: list[str] = []
        self.closed = False

    async def connect(self) -> str:
        return f"root@{self.node.address}:22"

    async def run_command(self, command: str, *, timeout: float, on_line, privileged: bool = True) -> int:  # type: ignore[no-untyped-def]
        self.commands.append(command)
        on_line("out", NEW_JOIN if self.code == 0 else "")
        if self.code:
            on_line("err", "failed to create bootstrap token: connection refused")
        return self.code

    async def close(self) -> None:
        self.closed = True


def screen_with(sessions: list[FakeSession], code: int = 0, save_dir: Path | None = None) -> SummaryScreen:
    def factory(node: NodeSpec) -> FakeSession:
        sessions.append(FakeSession(node, code))
        return sessions[-1]
    return SummaryScreen(summary(), lab_spec(), factory, save_dir)  # type: ignore[arg-type]


def shown_join(screen: SummaryScreen) -> str:
    return str(screen.query_one("#join-command").render()).replace("\n", " ")


async def test_copy_puts_the_join_command_on_the_clipboard() -> None:
    app = HostApp(screen_with([]))  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        assert app.clipboard == JOIN


async def test_save_writes_a_private_file(tmp_path: Path) -> None:
    app = HostApp(screen_with([], save_dir=tmp_path))  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
    path = tmp_path / info.JOIN_FILE
    assert path.read_text() == JOIN + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_regenerate_asks_the_first_control_plane() -> None:
    sessions: list[FakeSession] = []
    screen = screen_with(sessions)
    async with HostApp(screen).run_test(size=SIZE) as pilot:  # type: ignore[arg-type]
        await pilot.press("g")
        await pilot.pause(0.2)
        assert [s.node.name for s in sessions] == ["cp-1"]
        assert sessions[0].commands == [info.JOIN_COMMAND] and sessions[0].closed
        assert screen.summary.join_command == NEW_JOIN
        assert screen.summary.token_expires != summary().token_expires
        assert "zyxwvu.9876543210fedcba" in shown_join(screen)


async def test_regenerate_failure_keeps_the_old_command() -> None:
    sessions: list[FakeSession] = []
    screen = screen_with(sessions, code=1)
    app = HostApp(screen)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause(0.2)
        assert screen.summary.join_command == JOIN
        messages = [n.message for n in app._notifications]
        assert any("connection refused" in m for m in messages)


def test_node_rows_list_the_spec_then_extra_nodes() -> None:
    done = dataclasses.replace(summary(), node_status={"cp-1": "Ready", "stray": "NotReady"})
    rows = info.node_rows(done, lab_spec())
    assert rows[0] == ("cp-1", "control-plane", "Ready")
    assert rows[1] == ("node-1", "worker", "unknown")
    assert rows[-1] == ("stray", "?", "NotReady")


def test_details_and_failures_text() -> None:
    failed = summary(ok=False)
    assert "with failures" in info.headline(failed)
    details = "\n".join(info.detail_lines(failed, info.log_dir(failed)))
    assert "export KUBECONFIG=/state/lab/kubeconfig" in details and "/state/lab/logs" in details
    assert "not run" in details
    retry = info.failure_lines(failed, "lab.yaml")[1]
    assert "k8stui retry -f lab.yaml --node node-3 --step containerd --continue" in retry
