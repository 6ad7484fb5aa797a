"""Simulated nodes with a non-root login: permissions, sudo NOPASSWD, sudo with a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8stui.engine.errors import SudoError
from k8stui.engine.ssh import ConnectOptions, NodeSession, Secrets
from k8stui.model.cluster import NodeSpec
from k8stui.sim import SimCluster

SCRIPT = "#!/usr/bin/env bash\n# k8stui-step: swap node-1\n"


def session(sim: SimCluster, secrets: Secrets | None = None) -> NodeSession:
    node = sim.spec.node("node-1")
    options = ConnectOptions(ssh_config=False, agent=False, connect_timeout=10)
    return NodeSession(node, sim.spec.ssh_for(node), secrets=secrets or Secrets(), options=options)


async def test_non_root_needs_sudo_for_the_step_directory(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=1, step_seconds=0, user="ops") as sim:
        assert sim.spec.ssh.user == "ops" and sim.spec.ssh.needs_sudo
        async with await sim.connect("node-1") as conn:
            plain = await conn.run("mkdir -p /var/lib/k8stui/steps && cat > /var/lib/k8stui/steps/06-swap.sh",
                                   input=SCRIPT)
            home = await conn.run("echo $HOME; id -u; sudo -n id -u")
        assert plain.exit_status == 1 and "Permission denied" in plain.stderr
        assert home.stdout == "/home/ops\n1000\n0\n"
        lines: list[tuple[str, str]] = []
        async with session(sim) as ssh:  # NOPASSWD: staged upload, then `sudo -n` install + run
            code = await ssh.run_script("06-swap.sh", SCRIPT, timeout=30, on_line=lambda *x: lines.append(x))
        assert code == 0 and ("out", "::k8stui-status:: changed") in lines
        assert sim.node("node-1").applied == {"swap"}


async def test_sudo_password_right_wrong_and_missing(tmp_path: Path) -> None:
    start = SimCluster.start(tmp_path / "sim", workers=1, step_seconds=0, user="ops", sudo_password="s3cret")
    async with await start as sim:
        async with session(sim, Secrets(sudo_passwords={"*": "s3cret"})) as ssh:
            assert await ssh.run_script("06-swap.sh", SCRIPT, timeout=30, on_line=lambda *x: None) == 0
        async with session(sim, Secrets(sudo_passwords={"*": "wrong"})) as ssh:
            with pytest.raises(SudoError, match="rejected"):
                await ssh.run_script("06-swap.sh", SCRIPT, timeout=30, on_line=lambda *x: None)
        async with session(sim) as ssh:
            with pytest.raises(SudoError, match="needs a password"):
                await ssh.run_script("06-swap.sh", SCRIPT, timeout=30, on_line=lambda *x: None)
        assert all("s3cret" not in command for command in sim.node("node-1").commands)


async def test_whole_install_through_sudo_with_a_password(tmp_path: Path) -> None:
    from k8stui.engine.runner import Runner
    from k8stui.engine.state import RunState

    start = SimCluster.start(tmp_path / "sim", workers=2, step_seconds=0, user="ops", sudo_password="pw-1")
    async with await start as sim:
        secrets = Secrets(sudo_passwords={"*": "pw-1"})
        options = ConnectOptions(ssh_config=False, agent=False, connect_timeout=10)

        def factory(node: NodeSpec) -> NodeSession:
            return NodeSession(node, sim.spec.ssh_for(node), secrets=secrets, options=options)

        runner = Runner(sim.spec, state=RunState.open(sim.spec.name, tmp_path / "state"),
                        session_factory=factory, on_event=lambda _e: None)
        summary = await runner.run()
    assert summary.ok, summary.failures
    assert summary.node_status == {"cp-1": "Ready", "node-1": "Ready", "node-2": "Ready"}
