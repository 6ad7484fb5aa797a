"""Running steps and commands over real OpenSSH: upload, streaming, sudo, timeouts, cancel, reconnect."""

from __future__ import annotations

import asyncio
import secrets
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncssh
import pytest
from sshd import Sshd, SshLab, start_sshd

from k8stui.engine import ssh as ssh_module
from k8stui.engine.errors import ConnectionLost, StepTimeout, SudoError
from k8stui.engine.ssh import ConnectOptions, NodeSession, Secrets
from k8stui.model.cluster import NodeSpec, SSHSpec
from k8stui.recipes.protocol import STEPS_DIR

pytestmark = pytest.mark.sshd

NODE = NodeSpec(name="n1", address="127.0.0.1")
PLAIN = ConnectOptions(ssh_config=False, agent=False, connect_timeout=10)


class Lines:
    """An on_line callback that keeps what arrived, tagged."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def __call__(self, stream: str, line: str) -> None:
        self.items.append((stream, line))

    def out(self) -> list[str]:
        return [line for stream, line in self.items if stream == "out"]

    def err(self) -> list[str]:
        return [line for stream, line in self.items if stream == "err"]


def session(spec: SSHSpec, secrets_: Secrets | None = None) -> NodeSession:
    return NodeSession(NODE, spec, secrets=secrets_ or Secrets(), options=PLAIN)


def script(body: str) -> str:
    return f"#!/usr/bin/env bash\n# k8stui-step: test n1\nset -eu\n{body}\n"


def sleeper() -> str:
    """A `sleep` argument no other process on this machine uses, to find it with pgrep."""
    return f"3600.{secrets.randbelow(10**8):08d}"


def remote_sleeps(arg: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", f"sleep {arg}"], capture_output=True, text=True)
    return found.stdout.split()


async def eventually(predicate: Callable[[], bool], seconds: float = 10) -> bool:
    """Poll without blocking the event loop (the session's channels keep being served)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return False


async def gone(arg: str, seconds: float = 10) -> bool:
    return await eventually(lambda: not remote_sleeps(arg), seconds)


async def test_root_runs_script_by_path_and_streams_tagged_lines(ssh_lab: SshLab) -> None:
    lines = Lines()
    name = f"01-probe-{secrets.token_hex(3)}.sh"
    body = 'echo "mode=$1"\necho oops >&2\necho "::k8stui-output:: answer=42"\necho "path=$0"\nexit 3'
    async with session(ssh_lab.ssh_spec()) as s:
        code = await s.run_script(name, script(body), "check", timeout=20, on_line=lines)
    path = Path(STEPS_DIR) / name
    assert code == 3
    assert lines.out() == ["mode=check", "::k8stui-output:: answer=42", f"path={path}"]
    assert lines.err() == ["oops"]
    assert path.read_text() == script(body)
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert list(Path(STEPS_DIR).parent.joinpath("run").glob(f"{name[:-3]}-*.pid")) == []
    path.unlink()


async def test_lines_arrive_before_the_script_ends(ssh_lab: SshLab, tmp_path: Path) -> None:
    flag = tmp_path / "go"
    first = asyncio.Event()

    def on_line(_stream: str, line: str) -> None:
        if line == "first":
            first.set()

    body = f'echo first\nfor _ in $(seq 200); do [ -e {flag} ] && break; sleep 0.05; done\necho second'
    async with session(ssh_lab.ssh_spec()) as s:
        task = asyncio.create_task(s.run_script("02-stream.sh", script(body), timeout=30, on_line=on_line))
        await asyncio.wait_for(first.wait(), 10)
        assert not task.done()  # the script is still waiting for the flag: the line was streamed
        flag.touch()
        assert await asyncio.wait_for(task, 20) == 0


async def test_nopasswd_sudo_installs_and_runs_as_root(ssh_lab: SshLab) -> None:
    user, lines = ssh_lab.users.nopasswd, Lines()
    name = f"03-sudo-{secrets.token_hex(3)}.sh"
    async with session(ssh_lab.ssh_spec(user)) as s:
        assert await s.run_script(name, script("id -u"), timeout=20, on_line=lines) == 0
        privileged, plain = Lines(), Lines()
        assert await s.run_command("id -u", timeout=10, on_line=privileged) == 0
        assert await s.run_command("id -u", timeout=10, on_line=plain, privileged=False) == 0
    assert lines.out() == ["0"]
    assert privileged.out() == ["0"] and plain.out() != ["0"]
    installed = Path(STEPS_DIR) / name
    assert installed.stat().st_uid == 0 and stat.S_IMODE(installed.stat().st_mode) == 0o700
    assert not (Path(f"/home/{user}/.k8stui/steps") / name).exists()  # the staged copy is removed
    installed.unlink()


async def test_sudo_with_password_keeps_it_out_of_argv_and_output(ssh_lab: SshLab,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    users, lines, commands = ssh_lab.users, Lines(), []
    real_start = ssh_module.start

    async def spy(conn: asyncssh.SSHClientConnection, command: str,
                  password: str | None) -> asyncssh.SSHClientProcess:
        commands.append(command)
        return await real_start(conn, command, password)

    monkeypatch.setattr(ssh_module, "start", spy)
    s = session(ssh_lab.ssh_spec(users.password_user), Secrets(sudo_passwords={"n1": users.password}))
    async with s:
        body = 'id -u\nread -r -t 1 line || echo "stdin is empty"'
        assert await s.run_script("04-sudo-pw.sh", script(body), timeout=20, on_line=lines) == 0
    assert lines.out() == ["0", "stdin is empty"]  # the password went to sudo only, not the script
    assert all(users.password not in line for _, line in lines.items)
    assert commands and all("sudo -S -p ''" in c and users.password not in c for c in commands)


async def test_wrong_sudo_password_is_a_sudo_error_not_a_hang(ssh_lab: SshLab) -> None:
    users = ssh_lab.users
    s = session(ssh_lab.ssh_spec(users.password_user), Secrets(sudo_passwords={"*": "wrong-password"}))
    began = time.monotonic()
    async with s:
        with pytest.raises(SudoError) as caught:
            await s.run_script("05-sudo-bad.sh", script("id -u"), timeout=60, on_line=Lines())
    assert "rejected" in caught.value.message
    assert "wrong-password" not in caught.value.message
    assert time.monotonic() - began < 15


async def test_sudo_without_a_password_says_so(ssh_lab: SshLab) -> None:
    async with session(ssh_lab.ssh_spec(ssh_lab.users.password_user)) as s:
        with pytest.raises(SudoError) as caught:
            await s.run_command("true", timeout=20, on_line=Lines())
    assert "needs a password" in caught.value.message and "sudoPasswordEnv" in caught.value.message


async def test_requiretty_is_explained(ssh_lab: SshLab) -> None:
    async with session(ssh_lab.ssh_spec(ssh_lab.users.tty_user)) as s:
        with pytest.raises(SudoError) as caught:
            await s.run_script("06-tty.sh", script("id -u"), timeout=20, on_line=Lines())
    assert "requiretty" in caught.value.message


async def test_timeout_kills_the_remote_process_group(ssh_lab: SshLab) -> None:
    arg = sleeper()
    began = time.monotonic()
    async with session(ssh_lab.ssh_spec()) as s:
        with pytest.raises(StepTimeout) as caught:
            body = script(f"sleep {arg} &\nsleep {arg}\n")
            await s.run_script("07-hang.sh", body, timeout=1, on_line=Lines())
    assert "within 1s" in caught.value.message
    assert time.monotonic() - began < 10
    assert await gone(arg), "the remote sleeps survived the timeout"


async def test_local_timeout_when_the_remote_ignores_term(ssh_lab: SshLab,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssh_module, "LOCAL_GRACE", 1.0)  # fire before the remote `--kill-after=10`
    arg = sleeper()
    async with session(ssh_lab.ssh_spec()) as s:
        with pytest.raises(StepTimeout):
            body = script(f"trap '' TERM\nsleep {arg}\n")
            await s.run_script("08-stubborn.sh", body, timeout=1, on_line=Lines())
    assert await gone(arg), "cancel did not escalate to KILL"


async def _start_sleeper(s: NodeSession, arg: str) -> asyncio.Task[int]:
    started = asyncio.Event()

    def on_line(_stream: str, line: str) -> None:
        if line == "sleeping":
            started.set()

    body = f"echo sleeping\nsleep {arg}\n"
    task = asyncio.create_task(s.run_script("09-sleep.sh", script(body), timeout=600, on_line=on_line))
    await asyncio.wait_for(started.wait(), 10)
    return task


async def test_cancel_stops_what_is_running(ssh_lab: SshLab) -> None:
    arg = sleeper()
    async with session(ssh_lab.ssh_spec(ssh_lab.users.nopasswd)) as s:
        task = await _start_sleeper(s, arg)
        assert await eventually(lambda: bool(remote_sleeps(arg)))
        await s.cancel()
        code = await asyncio.wait_for(task, 15)
        assert code in (143, 137)  # TERM (or KILL) of the group, reported by the wrapper
        assert await gone(arg)
        assert await s.run_command("true", timeout=10, on_line=Lines()) == 0  # the session is still usable


async def test_cancelling_the_task_kills_the_remote_group(ssh_lab: SshLab) -> None:
    arg = sleeper()
    async with session(ssh_lab.ssh_spec()) as s:
        task = await _start_sleeper(s, arg)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)
        assert await gone(arg)


@pytest.fixture
def private_sshd(ssh_lab: SshLab, tmp_path: Path) -> Iterator[Sshd]:
    """A server of our own, so dropping or stopping it cannot disturb other tests."""
    server = start_sshd(ssh_lab.workdir, f"own-{secrets.token_hex(3)}", authorized_keys_dir=ssh_lab.keys_dir)
    try:
        yield server
    finally:
        server.stop()


def _spec_for(ssh_lab: SshLab, server: Sshd, tmp_path: Path) -> SSHSpec:
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line())
    return ssh_lab.ssh_spec(port=server.port, known_hosts=str(known))


async def test_reconnects_once_after_the_server_drops_us(ssh_lab: SshLab, private_sshd: Sshd,
                                                        tmp_path: Path) -> None:
    async with session(_spec_for(ssh_lab, private_sshd, tmp_path)) as s:
        assert await s.run_script("10-a.sh", script("echo a"), timeout=10, on_line=Lines()) == 0
        private_sshd.drop_connections()
        lines = Lines()
        assert await s.run_script("10-b.sh", script("echo b"), timeout=10, on_line=lines) == 0
        assert lines.out() == ["b"]
        private_sshd.drop_connections()
        await asyncio.sleep(0.3)  # let the client notice, then the idle path reconnects too
        assert await s.run_command("true", timeout=10, on_line=Lines()) == 0


async def test_connection_lost_when_reconnect_fails(ssh_lab: SshLab, private_sshd: Sshd,
                                                     tmp_path: Path) -> None:
    async with session(_spec_for(ssh_lab, private_sshd, tmp_path)) as s:
        assert await s.run_command("true", timeout=10, on_line=Lines()) == 0
        private_sshd.stop()
        with pytest.raises(ConnectionLost) as caught:
            await s.run_command("true", timeout=10, on_line=Lines())
    assert "reconnecting failed" in caught.value.message


async def test_drop_while_running_is_connection_lost(ssh_lab: SshLab, private_sshd: Sshd,
                                                      tmp_path: Path) -> None:
    arg = sleeper()
    async with session(_spec_for(ssh_lab, private_sshd, tmp_path)) as s:
        task = await _start_sleeper(s, arg)
        private_sshd.drop_connections()
        with pytest.raises(ConnectionLost) as caught:
            await asyncio.wait_for(task, 15)
        assert "may still be running" in caught.value.message
        await s.cancel()
    subprocess.run(["pkill", "-f", f"sleep {arg}"], check=False)


async def test_user_without_sudo_runs_from_home_and_can_cancel(ssh_lab: SshLab) -> None:
    user, lines, arg = ssh_lab.users.nopasswd, Lines(), sleeper()
    async with session(ssh_lab.ssh_spec(user, sudo="never")) as s:
        assert await s.run_script("11-plain.sh", script('id -un\necho "$0"'), timeout=20, on_line=lines) == 0
        assert lines.out() == [user, f"/home/{user}/.k8stui/steps/11-plain.sh"]
        task = asyncio.create_task(s.run_command(f"sleep {arg}", timeout=600, on_line=Lines()))
        assert await eventually(lambda: bool(remote_sleeps(arg)))
        await s.cancel()
        assert await asyncio.wait_for(task, 15) in (143, 137)
    assert await gone(arg)
    assert list(Path(f"/home/{user}/.k8stui/run").iterdir()) == []


async def test_cancel_right_after_the_start_still_kills(ssh_lab: SshLab) -> None:
    arg = sleeper()
    async with session(ssh_lab.ssh_spec()) as s:
        task = asyncio.create_task(s.run_command(f"sleep {arg}", timeout=600, on_line=Lines()))
        # As soon as the channel is open: the wrapper has most likely not written its pidfile yet.
        for _ in range(2000):
            if s._running:
                break
            await asyncio.sleep(0.005)
        await s.cancel()
        assert await asyncio.wait_for(task, 15) in (143, 137)
    assert await gone(arg)
