"""NodeSession.connect against real OpenSSH: authentication, jump hosts, ssh_config, host-key policies."""

from __future__ import annotations

import asyncio
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest
from sshd import Agent, Sshd, SshLab, free_port, keygen, public_line

from k8stui.engine.errors import AuthError, HostKeyError, SSHError
from k8stui.engine.ssh import ConnectOptions, NodeSession, Secrets
from k8stui.model.cluster import NodeSpec, SSHSpec

pytestmark = pytest.mark.sshd

NODE = NodeSpec(name="n1", address="127.0.0.1")
PLAIN = ConnectOptions(ssh_config=False, agent=False, connect_timeout=10)


def session(spec: SSHSpec, *, node: NodeSpec = NODE, secrets: Secrets | None = None,
            options: ConnectOptions = PLAIN, prompt=None) -> NodeSession:
    return NodeSession(node, spec, secrets=secrets or Secrets(), options=options, prompt=prompt)


async def whoami(s: NodeSession, privileged: bool = False) -> str:
    lines: list[str] = []
    code = await s.run_command("id -un", timeout=10, on_line=lambda _t, line: lines.append(line),
                               privileged=privileged)
    assert code == 0, lines
    return lines[-1]


async def test_key_auth_as_root(ssh_lab: SshLab) -> None:
    async with session(ssh_lab.ssh_spec()) as s:
        assert await s.connect() == f"root@127.0.0.1:{ssh_lab.server.port}"
        assert await whoami(s) == "root"


async def test_password_auth(ssh_lab: SshLab) -> None:
    user = ssh_lab.users.password_user
    spec = ssh_lab.ssh_spec(user, identity_file=None)
    async with session(spec, secrets=Secrets(ssh_passwords={"n1": ssh_lab.users.password})) as s:
        assert await whoami(s) == user


async def test_wrong_password_is_an_auth_error(ssh_lab: SshLab) -> None:
    spec = ssh_lab.ssh_spec(ssh_lab.users.password_user, identity_file=None)
    with pytest.raises(AuthError) as caught:
        await session(spec, secrets=Secrets(ssh_passwords={"*": "not-the-password"})).connect()
    assert "refused our credentials" in caught.value.message
    assert "not-the-password" not in caught.value.message


async def test_agent_auth(ssh_lab: SshLab, ssh_agent: Agent, monkeypatch: pytest.MonkeyPatch,
                          tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no default keys: only the agent can get us in
    monkeypatch.setenv("SSH_AUTH_SOCK", str(ssh_agent.sock))
    spec = ssh_lab.ssh_spec(identity_file=None)
    async with session(spec, options=ConnectOptions(ssh_config=False, agent=True)) as s:
        assert await whoami(s) == "root"
    with pytest.raises(AuthError):
        await session(spec, options=ConnectOptions(ssh_config=False, agent=False)).connect()


async def test_bastion_hop(ssh_lab: SshLab) -> None:
    bastion = ssh_lab.bastion
    spec = ssh_lab.ssh_spec(bastion=f"root@127.0.0.1:{bastion.port}")
    async with session(spec) as s:
        detail = await s.connect()
        assert await whoami(s) == "root"
    assert detail == f"root@127.0.0.1:{ssh_lab.server.port} via root@127.0.0.1:{bastion.port}"
    assert f"target 127.0.0.1 port {ssh_lab.server.port}" in bastion.log.read_text()
    assert await _no_sessions_left(bastion)  # close() closed the jump connection too


async def _no_sessions_left(server: Sshd, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        children = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True)
        if not children.stdout.strip():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_bastion_host_key_is_checked_too(ssh_lab: SshLab, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(ssh_lab.server.known_hosts_line())  # the node is known, the bastion is not
    spec = ssh_lab.ssh_spec(bastion=f"root@127.0.0.1:{ssh_lab.bastion.port}", known_hosts=str(known))
    with pytest.raises(HostKeyError) as caught:
        await session(spec).connect()
    assert caught.value.port == ssh_lab.bastion.port
    assert caught.value.fingerprint == ssh_lab.bastion.fingerprint()


async def test_strict_refuses_unknown_key(ssh_lab: SshLab, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    with pytest.raises(HostKeyError) as caught:
        await session(ssh_lab.ssh_spec(known_hosts=str(known))).connect()
    error = caught.value
    assert (error.reason, error.key_type) == ("unknown", "ssh-ed25519")
    assert ssh_lab.server.fingerprint() in error.message
    assert error.fingerprint.startswith("SHA256:")
    assert "accept-new" in error.message and "ssh-keyscan" in error.message
    assert f"[127.0.0.1]:{ssh_lab.server.port}" in error.message
    assert known.read_text() == ""


def _changed_known_hosts(ssh_lab: SshLab, path: Path) -> str:
    other = keygen(path.parent / "other_host_key")
    text = f"[127.0.0.1]:{ssh_lab.server.port} {public_line(other)}\n"
    path.write_text(text)
    return text


@pytest.mark.parametrize("policy", ["strict", "accept-new"])
async def test_changed_key_refused_under_every_policy(ssh_lab: SshLab, tmp_path: Path, policy: str) -> None:
    known = tmp_path / "known_hosts"
    before = _changed_known_hosts(ssh_lab, known)
    prompted: list[tuple[str, str, str]] = []

    async def prompt(*args: str) -> bool:
        prompted.append(args)
        return True

    spec = ssh_lab.ssh_spec(known_hosts=str(known), host_key_policy=policy)
    with pytest.raises(HostKeyError) as caught:
        await session(spec, prompt=prompt).connect()
    assert caught.value.reason == "changed"
    assert "HOST KEY CHANGED" in caught.value.message
    assert ssh_lab.server.fingerprint() in caught.value.message
    assert prompted == []  # a changed key is never offered for acceptance
    assert known.read_text() == before


async def test_accept_new_records_first_seen_key(ssh_lab: SshLab, tmp_path: Path) -> None:
    known = tmp_path / "fresh" / "known_hosts"
    spec = ssh_lab.ssh_spec(known_hosts=str(known), host_key_policy="accept-new")
    async with session(spec) as s:
        assert await whoami(s) == "root"
    assert known.read_text() == ssh_lab.server.known_hosts_line()
    assert stat.S_IMODE(known.stat().st_mode) == 0o600
    assert stat.S_IMODE(known.parent.stat().st_mode) == 0o700
    async with session(ssh_lab.ssh_spec(known_hosts=str(known))) as s:  # now trusted under strict
        assert await whoami(s) == "root"
    assert known.read_text() == ssh_lab.server.known_hosts_line()


@pytest.mark.parametrize("answer", [True, False])
async def test_strict_prompt_decides_unknown_key(ssh_lab: SshLab, tmp_path: Path, answer: bool) -> None:
    known = tmp_path / "known_hosts"
    asked: list[tuple[str, str, str]] = []

    async def prompt(host: str, key_type: str, fingerprint: str) -> bool:
        asked.append((host, key_type, fingerprint))
        return answer

    s = session(ssh_lab.ssh_spec(known_hosts=str(known)), prompt=prompt)
    if answer:
        await s.connect()
        await s.close()
        assert known.read_text() == ssh_lab.server.known_hosts_line()
    else:
        with pytest.raises(HostKeyError):
            await s.connect()
        assert not known.exists()
    assert asked == [("127.0.0.1", "ssh-ed25519", ssh_lab.server.fingerprint())]


async def test_hashed_known_hosts_entries(ssh_lab: SshLab, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    shutil.copy(ssh_lab.known_hosts, known)
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], check=True, capture_output=True)
    assert known.read_text().startswith("|1|")
    async with session(ssh_lab.ssh_spec(known_hosts=str(known))) as s:
        assert await whoami(s) == "root"


def _write_config(tmp_path: Path, text: str) -> ConnectOptions:
    config = tmp_path / "ssh_config"
    config.write_text(text)
    return ConnectOptions(ssh_config=True, agent=False, ssh_config_path=str(config))


async def test_ssh_config_alias_user_port_identity(ssh_lab: SshLab, tmp_path: Path) -> None:
    user = ssh_lab.users.nopasswd
    options = _write_config(tmp_path, f"Host lab-node\n  HostName 127.0.0.1\n  Port {ssh_lab.server.port}\n"
                                      f"  User {user}\n  IdentityFile {ssh_lab.client_key}\n")
    node = NodeSpec(name="n1", address="lab-node")
    async with session(SSHSpec(known_hosts=str(ssh_lab.known_hosts)), node=node, options=options) as s:
        assert await s.connect() == f"{user}@127.0.0.1:{ssh_lab.server.port}"
        assert await whoami(s) == user
    # An explicit value in the cluster file wins over ssh_config.
    spec = SSHSpec(user="root", known_hosts=str(ssh_lab.known_hosts))
    async with session(spec, node=node, options=options) as s:
        assert await whoami(s) == "root"


async def test_ssh_config_proxy_jump(ssh_lab: SshLab, tmp_path: Path) -> None:
    jump = f"root@127.0.0.1:{ssh_lab.bastion.port}"
    options = _write_config(tmp_path, f"Host lab-node\n  HostName 127.0.0.1\n  ProxyJump {jump}\n")
    node = NodeSpec(name="n1", address="lab-node")
    async with session(ssh_lab.ssh_spec(), node=node, options=options) as s:
        assert (await s.connect()).endswith(f" via {jump}")
        assert await whoami(s) == "root"


async def test_missing_identity_file_is_named(ssh_lab: SshLab, tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "id_ed25519"
    with pytest.raises(SSHError) as caught:
        await session(ssh_lab.ssh_spec(identity_file=str(missing))).connect()
    assert str(missing) in caught.value.message


async def test_connection_refused_is_an_ssh_error(ssh_lab: SshLab) -> None:
    with pytest.raises(SSHError) as caught:
        await session(ssh_lab.ssh_spec(port=free_port())).connect()
    assert "cannot connect" in caught.value.message


async def test_locked_identity_file_points_to_the_agent(ssh_lab: SshLab, tmp_path: Path) -> None:
    key = tmp_path / "id_locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-phrase", "-f", str(key)],
                   check=True, capture_output=True)
    with pytest.raises(AuthError) as caught:
        await session(ssh_lab.ssh_spec(identity_file=str(key))).connect()
    assert "ssh-add" in caught.value.message
