"""Opening SSH connections: jump hosts first, each checked against the same known_hosts and policy.

asyncssh validates host keys synchronously, so an interactive accept cannot happen mid-handshake:
we refuse the unknown key, ask the prompt, record the key when accepted and dial once more.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncssh

from k8stui.engine.errors import AuthError, HostKeyError, SSHError
from k8stui.engine.hostkeys import HostKeyGate, KnownHostsFile
from k8stui.engine.sshconfig import Route, Target

HostKeyPrompt = Callable[[str, str, str], Awaitable[bool]]  # (host, key type, SHA256 fingerprint) -> accept?


class _Client(asyncssh.SSHClient):
    """Routes host-key decisions to the gate and notices a dropped connection."""

    def __init__(self, gate: HostKeyGate) -> None:
        self.gate = gate
        self.lost = False

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        return self.gate.validate(host, addr, port, key)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


@dataclass
class DialSettings:
    """Everything about how to dial that is the same for every hop of a node's route."""

    known: KnownHostsFile
    policy: str
    connect_timeout: float
    keepalive_interval: float
    agent: bool
    prompt: HostKeyPrompt | None = None
    config_paths: tuple[str, ...] = ()


@dataclass
class Link:
    """An open connection to a node, plus the jump-host connections it runs through (closed with it)."""

    conn: asyncssh.SSHClientConnection
    client: _Client
    tunnels: tuple[asyncssh.SSHClientConnection, ...] = ()

    @property
    def alive(self) -> bool:
        return not self.client.lost and not self.conn.is_closed()

    async def close(self) -> None:
        for conn in (self.conn, *reversed(self.tunnels)):
            conn.close()
            # already torn down or unreachable: nothing left to wait for
            with contextlib.suppress(asyncio.TimeoutError, OSError, asyncssh.Error):
                await asyncio.wait_for(conn.wait_closed(), 5)


async def open_route(route: Route, settings: DialSettings, password: str | None) -> Link:
    """Dial every jump host in order, then the node through the last one."""
    tunnels: list[asyncssh.SSHClientConnection] = []
    try:
        for hop in route.jumps:
            conn, _ = await dial(hop, settings, tunnels[-1] if tunnels else None, None)
            tunnels.append(conn)
        conn, client = await dial(route.target, settings, tunnels[-1] if tunnels else None, password)
    except BaseException:
        for tunnel in reversed(tunnels):
            tunnel.close()
        raise
    return Link(conn, client, tuple(tunnels))


async def dial(target: Target, settings: DialSettings, tunnel: asyncssh.SSHClientConnection | None,
               password: str | None) -> tuple[asyncssh.SSHClientConnection, _Client]:
    """One connection; an unknown key accepted at the prompt is recorded and dialled once more."""
    for attempt in (1, 2):
        gate = HostKeyGate(settings.known, settings.policy)
        try:
            return await _connect(target, settings, tunnel, password, gate)
        except asyncssh.HostKeyNotVerifiable as exc:
            error = gate.refusal or SSHError(f"host key of {target} could not be verified: {exc.reason}")
            if attempt == 1 and await _accepted(error, settings.prompt):
                gate.accept_unknown()
                continue
            raise error from None
    raise AssertionError("unreachable: the second attempt returns or raises")


async def _accepted(error: SSHError, prompt: HostKeyPrompt | None) -> bool:
    if prompt is None or not isinstance(error, HostKeyError) or error.reason != "unknown":
        return False
    return bool(await prompt(error.host, error.key_type, error.fingerprint))


async def _connect(target: Target, settings: DialSettings, tunnel: asyncssh.SSHClientConnection | None,
                   password: str | None, gate: HostKeyGate) -> tuple[asyncssh.SSHClientConnection, _Client]:
    try:
        conn = await asyncssh.connect(
            target.host, target.port, tunnel=tunnel, config=list(settings.config_paths) or None,
            username=target.user, client_keys=list(target.identity_files),
            agent_path=() if settings.agent else None, password=password,
            known_hosts=gate.match, client_factory=lambda: _Client(gate),
            connect_timeout=settings.connect_timeout, login_timeout=settings.connect_timeout,
            keepalive_interval=settings.keepalive_interval, keepalive_count_max=3,
        )
    except asyncssh.HostKeyNotVerifiable:
        raise
    except asyncssh.PermissionDenied:
        raise AuthError(_auth_message(target, settings, password)) from None
    except asyncssh.KeyImportError as exc:
        raise AuthError(f"cannot load a key for {target}: {exc}; if it is passphrase-protected, "
                        "add it to ssh-agent (ssh-add) and set identityFile: null") from None
    except asyncio.TimeoutError:
        raise SSHError(f"timed out after {settings.connect_timeout:g}s connecting to {target}") from None
    except OSError as exc:
        raise SSHError(f"cannot connect to {target}: {exc.strerror or exc}") from None
    except asyncssh.Error as exc:
        raise SSHError(f"SSH to {target} failed: {exc.reason}") from None
    return conn, conn.get_owner()  # type: ignore[return-value]


def _auth_message(target: Target, settings: DialSettings, password: str | None) -> str:
    tried = [f"key {path}" for path in target.identity_files] or ["the default keys in ~/.ssh"]
    if settings.agent and os.environ.get("SSH_AUTH_SOCK"):
        tried.append("ssh-agent")
    if password is not None:
        tried.append("a password")
    return (f"{target} refused our credentials (tried {', '.join(tried)}); check `user`, "
            "`identityFile`/ssh-agent, or the password (passwordEnv)")
