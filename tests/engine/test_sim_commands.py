"""The simulator understands the engine's real command shapes and its real rendered scripts."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from k8stui.engine import remote
from k8stui.engine.ssh import ConnectOptions, NodeSession, Secrets
from k8stui.recipes.plan import build_plan
from k8stui.recipes.protocol import parse_output
from k8stui.sim import Fault, SimCluster
from k8stui.sim.commands import STARTED, Exec, Install, Kill, Plain, Upload, classify, split, strip_wrappers

PID = "03-hostname-0a1b2c3d.pid"


def test_started_marker_is_the_engines() -> None:
    assert remote.STARTED == STARTED


def test_uploads_root_and_staged() -> None:
    root = classify(remote.upload_command(remote.ROOT_STEPS.child("03-hostname.sh")))
    staged = classify(remote.upload_command(remote.USER_STEPS.child("03-hostname.sh")))
    assert root == Upload("/var/lib/k8stui/steps/03-hostname.sh")
    assert isinstance(staged, Upload) and staged.path.endswith("/.k8stui/steps/03-hostname.sh")


def test_step_runs_through_the_wrapper() -> None:
    script = remote.ROOT_STEPS.child("03-hostname.sh")
    plain = classify(remote.step_command("", script, "check", 59.5, PID))
    assert plain == Exec(script.path, "check", 60.0, None, PID, True)
    sudo = classify(remote.step_command(remote.sudo_prefix(True, True), script, "apply", 900, PID,
                                        staged=remote.USER_STEPS.child("03-hostname.sh")))
    assert isinstance(sudo, Exec) and (sudo.mode, sudo.timeout, sudo.pid) == ("apply", 900.0, PID)
    assert sudo.staged_from is not None and sudo.staged_from.endswith(".k8stui/steps/03-hostname.sh")


def test_commands_and_kills_through_the_wrapper() -> None:
    command = "journalctl -u kubelet -n 200 --no-pager"
    assert classify(remote.shell_command("sudo -n -- ", remote.ROOT_RUN, command, 30, "cmd-1.pid")) == \
        Plain(("journalctl", "-u", "kubelet", "-n", "200", "--no-pager"), command, True, 30.0)
    killer = classify(remote.cancel_command("", [remote.ROOT_RUN.child(PID), remote.USER_RUN.child("x.pid")]))
    assert killer == Kill((PID, "x.pid"), ())


@pytest.mark.parametrize(("text", "expected"), [
    ("timeout -k 5 30s bash /x/01-a.sh apply", Exec("/x/01-a.sh", "apply", 30.0)),
    ("sudo -n timeout --signal=TERM 2m bash '/x/01-a.sh' publish", Exec("/x/01-a.sh", "publish", 120.0)),
    ("bash /x/01-a.sh", Exec("/x/01-a.sh", "run", None)),
    ("sudo install -m 0700 /h/01-a.sh /x/01-a.sh", Install("/h/01-a.sh", "/x/01-a.sh")),
    ("pkill -f 07-kernel.sh", Kill((), ("07-kernel.sh",))),
    ("kill -TERM -- -$(cat /run/07-kernel.pid)", Kill(("07-kernel.pid",), ())),
    ("sudo -n -- kill -TERM 42; rm -f /run/07-kernel.pid", Kill(("07-kernel.pid",), ())),
    ("echo kill me", Plain(("echo", "kill", "me"), "echo kill me")),
])
def test_liberal_shapes(text: str, expected: object) -> None:
    assert classify(text) == expected


@pytest.mark.parametrize("text", [
    remote.step_command("sudo -S -p '' -- ", remote.ROOT_STEPS.child("03-x.sh"), "run", 60, PID,
                        staged=remote.USER_STEPS.child("03-x.sh")),
    remote.shell_command("", remote.ROOT_RUN, "sysctl -p 'a|b' && echo \"x \\\"y\\\" $HOME\"", 30, "c"),
    remote.upload_command(remote.USER_STEPS.child("01-a.sh")),
    "echo a\\ b 'c''d' \"e\\\\f\" g\\\nh",
    "a\"b c\"d 'x y'z  ",
])
def test_split_matches_shlex(text: str) -> None:
    assert split(text) == shlex.split(text)


def test_split_tolerates_unbalanced_quotes() -> None:
    assert split("echo 'oops") == ["echo", "'oops"]


def test_strip_wrappers() -> None:
    words = ["sudo", "-n", "-p", "", "-S", "env", "LC_ALL=C", "timeout", "-k", "5", "30", "crictl", "ps"]
    assert strip_wrappers(words) == ["crictl", "ps"]


def _session(sim: SimCluster, name: str) -> NodeSession:
    node = sim.spec.node(name)
    options = ConnectOptions(ssh_config=False, agent=False, connect_timeout=10)
    return NodeSession(node, sim.spec.ssh_for(node), secrets=Secrets(), options=options)


async def test_node_session_cancel_kills_the_hanging_step_by_pidfile(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=1, step_seconds=0) as sim:
        sim.inject("node-1", "swap", Fault("hang"))
        lines: list[tuple[str, str]] = []
        async with _session(sim, "node-1") as session:
            text = "#!/usr/bin/env bash\n# k8stui-step: swap node-1\n"
            running = asyncio.ensure_future(
                session.run_script("06-swap.sh", text, timeout=300, on_line=lambda *x: lines.append(x)))
            for _ in range(500):
                if sim.node("node-1").running:
                    break
                await asyncio.sleep(0.01)
            await session.cancel()
            code = await asyncio.wait_for(running, 10)
        assert code == 143 and not sim.node("node-1").running
        assert any(STARTED in c and "bash -c" in c for c in sim.node("node-1").commands)
        assert any("kill -TERM" in c for c in sim.node("node-1").commands)
        assert ("out", STARTED) not in lines  # the session consumed its marker


def collect(into: dict[str, str]) -> Callable[[str, str], None]:
    def on_line(_tag: str, line: str) -> None:
        into.update([parse_output(line)] if parse_output(line) else [])
    return on_line


async def test_real_rendered_join_script_is_validated(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=1, step_seconds=0) as sim:
        plan = build_plan(sim.spec)
        out: dict[str, str] = {}
        async with _session(sim, "cp-1") as session:
            init = plan.find("cp-1", "init")
            assert init is not None
            code = await session.run_script(init.script, plan.render(init), timeout=60, on_line=collect(out))
        assert code == 0 and out["ca_hash"] == sim.ca_hash
        join = plan.find("node-1", "join")
        assert join is not None
        async with _session(sim, "node-1") as session:
            bad = plan.render(join, outputs={**out, "token": "abcdef.0123456789abcdef"})
            assert await session.run_script(join.script, bad, timeout=60, on_line=lambda *x: None) == 1
            good = plan.render(join, outputs=out)
            assert await session.run_script(join.script, good, timeout=60, on_line=lambda *x: None) == 0
        assert sim.node("node-1").joined
