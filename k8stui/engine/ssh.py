"""A node's SSH session: one connection for the whole run, step scripts uploaded and run by path.

The wire shapes are in `k8stui.engine.remote` (and `k8stui.recipes.protocol`); this module adds the
connection lifecycle (reconnect once), streaming, sudo handling, timeouts and cancellation.
Secrets (passwords) only ever travel on a channel's stdin, never in argv or in logs.
"""

from __future__ import annotations

import asyncio
import re
import secrets as _random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import asyncssh

from k8stui.engine import remote
from k8stui.engine.dial import DialSettings, HostKeyPrompt, Link, open_route
from k8stui.engine.errors import ConnectionLost, SSHError, StepTimeout, SudoError
from k8stui.engine.hostkeys import KnownHostsFile
from k8stui.engine.sshconfig import resolve
from k8stui.engine.sshproc import OnLine, Running, Watch, pump, start, still_open
from k8stui.model.cluster import NodeSpec, SSHSpec

__all__ = ["ConnectOptions", "HostKeyPrompt", "NodeSession", "OnLine", "Secrets"]

T = TypeVar("T")
MODES = ("run", "check", "apply", "publish")
CANCELLED_EXIT = 143  # what run_script returns after cancel() when the channel closed before the status
LOCAL_GRACE = 5.0  # the remote `timeout` normally fires first; this bounds a node that stopped answering
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_DROPS = (asyncssh.Error, OSError)


@dataclass
class Secrets:
    """Passwords for this run only (never persisted); key "*" applies to every node."""

    ssh_passwords: dict[str, str] = field(default_factory=dict)
    sudo_passwords: dict[str, str] = field(default_factory=dict)

    def ssh_password(self, node: str) -> str | None:
        return self.ssh_passwords.get(node, self.ssh_passwords.get("*"))

    def sudo_password(self, node: str) -> str | None:
        return self.sudo_passwords.get(node, self.sudo_passwords.get("*"))

    def __repr__(self) -> str:  # never print the values
        return f"Secrets(ssh={sorted(self.ssh_passwords)}, sudo={sorted(self.sudo_passwords)})"


@dataclass
class ConnectOptions:
    connect_timeout: float = 15.0
    keepalive_interval: float = 30.0
    ssh_config: bool = True  # honor ~/.ssh/config (Host aliases, User, Port, IdentityFile, ProxyJump)
    agent: bool = True
    ssh_config_path: str = "~/.ssh/config"
    upload_timeout: float = 60.0
    cancel_timeout: float = 30.0


class NodeSession:
    """The SSH session of one node, reused by every step of a run."""

    def __init__(self, node: NodeSpec, ssh: SSHSpec, *, secrets: Secrets,
                 options: ConnectOptions | None = None, prompt: HostKeyPrompt | None = None) -> None:
        self.node = node
        self.ssh = ssh
        self._secrets = secrets
        self._options = options or ConnectOptions()
        self._prompt = prompt
        self._link: Link | None = None
        self._detail = ""
        self._user = ssh.user  # the login user after ~/.ssh/config is applied (set by connect)
        self._running: dict[int, Running] = {}
        self._connecting = asyncio.Lock()

    # -- connection ----------------------------------------------------------------------------------

    async def connect(self) -> str:
        """Connect (if not connected yet) and return e.g. `ops@10.0.0.11:22 via root@bastion:22`."""
        async with self._connecting:
            if self._link is not None and self._link.alive:
                return self._detail
            await self._drop()
            route = resolve(self.node, self.ssh, use_config=self._options.ssh_config,
                            config_path=self._options.ssh_config_path)
            self._link = await open_route(route, self._settings(route.config_paths), self._ssh_password())
            self._detail, self._user = route.describe(), route.target.user
            return self._detail

    def _settings(self, config_paths: tuple[str, ...]) -> DialSettings:
        opts = self._options
        return DialSettings(KnownHostsFile(self.ssh.known_hosts), self.ssh.host_key_policy,
                            opts.connect_timeout, opts.keepalive_interval, opts.agent, self._prompt,
                            config_paths)

    def _ssh_password(self) -> str | None:
        password = self._secrets.ssh_password(self.node.name)
        if password is None and self.ssh.password is not None:
            password = self.ssh.password.get_secret_value()
        return password

    async def _drop(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.close()

    async def _reconnect(self, why: str) -> None:
        """The one reconnect we allow per dropped connection (a no-op if another task already did it)."""
        try:
            await self.connect()
        except SSHError as exc:
            raise ConnectionLost(f"{self.node.name}: connection lost ({why}) and reconnecting failed: "
                                 f"{exc.message}") from exc

    async def _with_link(self, opener: Callable[[asyncssh.SSHClientConnection], Awaitable[T]]) -> T:
        """Run `opener` on the live connection; if the connection turns out dropped, reconnect once."""
        if self._link is None:
            await self.connect()
        elif not self._link.alive:
            await self._reconnect("dropped while idle")
        link = self._link
        assert link is not None
        try:
            return await opener(link.conn)
        except _DROPS as exc:
            if not _is_drop(exc) and link.alive:
                raise SSHError(f"{self.node.name}: {_reason(exc)}") from exc
            if self._link is link:  # not replaced by another task's reconnect meanwhile
                await self._drop()
            await self._reconnect(_reason(exc))
        assert self._link is not None
        try:
            return await opener(self._link.conn)
        except _DROPS as exc:
            raise ConnectionLost(f"{self.node.name}: connection lost again right after reconnecting: "
                                 f"{_reason(exc)}") from exc

    async def _ready(self) -> None:
        """Connect on first use, so privileges follow the user we really log in as."""
        if self._link is None:
            await self.connect()

    async def close(self) -> None:
        await self._drop()

    async def __aenter__(self) -> NodeSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- privileges ----------------------------------------------------------------------------------

    @property
    def _is_root(self) -> bool:
        return self._user == "root"

    @property
    def needs_sudo(self) -> bool:
        """SSHSpec.needs_sudo, but for the user we really log in as (ssh_config may pick it)."""
        return self.ssh.sudo == "always" or (self.ssh.sudo == "auto" and not self._is_root)

    def _sudo_password(self) -> str | None:
        return self._secrets.sudo_password(self.node.name) if self.needs_sudo else None

    def _prefix(self, sudo: bool) -> str:
        return remote.sudo_prefix(sudo, self._sudo_password() is not None)

    def _run_dir(self, privileged: bool) -> remote.RemotePath:
        return remote.ROOT_RUN if (privileged and self.needs_sudo) or self._is_root else remote.USER_RUN

    # -- steps and commands --------------------------------------------------------------------------

    async def run_script(self, name: str, text: str, mode: str = "run", *, timeout: float,
                         on_line: OnLine) -> int:
        """Upload `text` as step script `name` (e.g. `03-prep.sh`) and run `bash <path> <mode>`."""
        if mode not in MODES or not _NAME.match(name):
            raise ValueError(f"bad step script {name!r} or mode {mode!r}")
        await self._ready()
        sudo = self.needs_sudo
        script = remote.ROOT_STEPS.child(name) if (sudo or self._is_root) else remote.USER_STEPS.child(name)
        staged = remote.USER_STEPS.child(name) if sudo else None
        await self._upload(staged or script, text)
        pid_name, run_dir = f"{name.removesuffix('.sh')}-{_random.token_hex(4)}.pid", self._run_dir(True)
        command = remote.step_command(self._prefix(sudo), script, mode, timeout, pid_name,
                                      staged=staged, run_dir=run_dir)
        return await self._execute(command, run_dir.child(pid_name), name, timeout, on_line, sudo)

    async def run_command(self, command: str, *, timeout: float, on_line: OnLine,
                          privileged: bool = True) -> int:
        """Run a diagnostic shell command (through sudo when the node needs it and `privileged`)."""
        await self._ready()
        sudo = privileged and self.needs_sudo
        pid_name, run_dir = f"cmd-{_random.token_hex(4)}.pid", self._run_dir(privileged)
        line = remote.shell_command(self._prefix(sudo), run_dir, command, timeout, pid_name)
        return await self._execute(line, run_dir.child(pid_name), "command", timeout, on_line, sudo)

    async def _upload(self, dest: remote.RemotePath, text: str) -> None:
        data = text if text.endswith("\n") else text + "\n"

        async def send(conn: asyncssh.SSHClientConnection) -> asyncssh.SSHCompletedProcess:
            command, limit = remote.upload_command(dest), self._options.upload_timeout
            try:
                result = await conn.run(command, input=data, timeout=limit)
            except asyncssh.TimeoutError:
                raise SSHError(f"{self.node.name}: uploading {dest.path} timed out") from None
            if result.exit_status is None and conn.is_closed():
                raise ConnectionError("the connection closed during the upload")  # retried after reconnecting
            return result

        result = await self._with_link(send)
        if result.exit_status != 0:
            raise SSHError(f"{self.node.name}: cannot write {dest.path}: {str(result.stderr).strip()}")

    async def _execute(self, command: str, pidfile: remote.RemotePath, label: str, timeout: float,
                       on_line: OnLine, sudo: bool) -> int:
        password = self._sudo_password() if sudo else None
        proc = await self._with_link(lambda conn: start(conn, command, password))
        running = Running(proc, pidfile, sudo)
        self._running[id(running)] = running
        try:
            return await self._await(running, label, timeout, on_line)
        finally:
            self._running.pop(id(running), None)

    async def _await(self, running: Running, label: str, timeout: float, on_line: OnLine) -> int:
        watch, began = Watch(), time.monotonic()
        limit = remote.limit_seconds(timeout)
        try:
            code = await asyncio.wait_for(pump(running, on_line, watch), limit + LOCAL_GRACE)
        except asyncio.TimeoutError:
            await self._stop([running])
            raise StepTimeout(f"{self.node.name}: {label} did not finish within {limit}s; "
                              "stopped it") from None
        except asyncio.CancelledError:
            await asyncio.shield(self._stop([running]))
            raise
        except _DROPS as exc:
            raise self._lost_midway(label, exc) from exc
        timed_out = time.monotonic() - began >= limit - 0.5
        return self._verdict(running, watch, code, label, limit if timed_out else None)

    def _verdict(self, running: Running, watch: Watch, code: int | None, label: str,
                 timed_out: int | None) -> int:
        """The exit status, or the error it stands for (lost channel, sudo refusal, remote timeout)."""
        if code is None:
            if running.cancelled:
                return CANCELLED_EXIT
            raise self._lost_midway(label, None)
        self._check_sudo(watch, code)
        if code in (124, 137) and timed_out:  # GNU timeout: 124 after TERM, 137 after --kill-after
            raise StepTimeout(f"{self.node.name}: {label} did not finish within {timed_out}s; "
                              "its process group was killed")
        return code

    def _lost_midway(self, label: str, exc: BaseException | None) -> ConnectionLost:
        why = _reason(exc) if exc else "the channel closed without an exit status"
        return ConnectionLost(f"{self.node.name}: connection lost while running {label} ({why}); "
                              "it may still be running on the node")

    def _check_sudo(self, watch: Watch, code: int) -> None:
        if watch.started or code == 0 or not self.needs_sudo:
            return
        problem = remote.sudo_problem(watch.early_err)
        if problem:
            problem = problem.replace("<user>", self._user)
            raise SudoError(f"{self.node.name}: sudo as {self._user} failed: {problem}")

    # -- cancellation --------------------------------------------------------------------------------

    async def cancel(self) -> None:
        """Stop the remote process group(s) of whatever this session is running now."""
        running = list(self._running.values())
        for item in running:
            item.cancelled = True
        if running:
            await self._stop(running)

    async def _stop(self, running: list[Running], settle: float = 2.0) -> None:
        """TERM then KILL each remote process group (separate session), then close the channels.

        A kill can land before the wrapper wrote its pidfile (a cancel right after the start), so
        whatever is still running `settle` seconds later gets a second one.
        """
        if await self._kill_all(running):
            still = await still_open(running, settle)
            if still:
                await self._kill_all(still)
        for item in running:
            item.proc.close()
        for item in await still_open(running, settle):
            item.abandoned.set()

    async def _kill_all(self, running: list[Running]) -> bool:
        reached = True
        for sudo in (True, False):
            pidfiles = [r.pidfile for r in running if r.sudo == sudo]
            if pidfiles:
                reached = await self._kill(pidfiles, sudo) and reached
        return reached

    async def _kill(self, pidfiles: list[remote.RemotePath], sudo: bool) -> bool:
        """Run the killer; False when the node could not be reached (the remote `timeout` still bounds it)."""
        command = remote.cancel_command(self._prefix(sudo), pidfiles)
        password = self._sudo_password() if sudo else None

        async def kill(conn: asyncssh.SSHClientConnection) -> None:
            proc = await start(conn, command, password)
            await proc.wait()

        try:
            await asyncio.wait_for(self._with_link(kill), self._options.cancel_timeout)
        except (asyncio.TimeoutError, SSHError, *_DROPS):
            return False
        return True


def _is_drop(exc: BaseException) -> bool:
    """Errors that mean the connection itself is gone (not just that one channel was refused)."""
    return isinstance(exc, (asyncssh.ConnectionLost, asyncssh.DisconnectError, ConnectionError))


def _reason(exc: BaseException | None) -> str:
    if isinstance(exc, asyncssh.Error):
        return exc.reason
    return str(exc) or type(exc).__name__
