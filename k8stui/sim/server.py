"""SIMULATION: the asyncssh server side of one simulated node.

Each exec session is classified (k8stui.sim.commands) and answered: uploads are stored, step runs
are *played* by the node (nothing executes), kills cancel a playing step (its session exits 143),
a `timeout N` wrapper is honoured (exit 124), a signal on the channel or a closed channel cancels
too, and everything else goes to the canned diagnostics (unknown commands: exit 127).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncssh

from k8stui.sim import diag, texts
from k8stui.sim.commands import (
    STARTED,
    Command,
    Exec,
    Install,
    Kill,
    Plain,
    Upload,
    classify,
    script_name,
    split,
)
from k8stui.sim.node import SimNode
from k8stui.sim.sudo import EXIT_SUDO_FAILED, SudoUse, denied, refusal, sudo_use

MAX_SCRIPT_BYTES = 4 * 1024 * 1024  # a rendered step is a few kB; refuse anything absurd
EXIT_TERMINATED = 143  # 128 + SIGTERM, what a killed `bash script.sh` reports
EXIT_TIMEOUT = 124  # what coreutils `timeout` reports
STDIN_GRACE = 1.0  # seconds a refused session keeps reading stdin before it exits


class NodeServer(asyncssh.SSHServer):
    """Connection-level callbacks: count connections, show the SIMULATION banner."""

    def __init__(self, node: SimNode, live: set[asyncssh.SSHServerConnection]) -> None:
        self._node = node
        self._live = live  # shared by the cluster, so stop() can close every open connection
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._node.connections += 1
        self._conn = conn
        self._live.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._live.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        if self._conn is not None:
            self._conn.send_auth_banner(texts.BANNER.format(name=self._node.name) + "\n")
        return True  # public key auth against the one authorized client key


class _Output:
    """Buffered lines to the session's stdout/stderr (one SSH packet per burst, not per line);
    silent once the client went away."""

    def __init__(self, process: asyncssh.SSHServerProcess[str]) -> None:
        self._process = process
        self._out: list[str] = []
        self._err: list[str] = []

    def out(self, line: str) -> None:
        self._out.append(line + "\n")

    def err(self, line: str) -> None:
        self._err.append(line + "\n")

    def flush(self) -> None:
        if self._process.is_closing():
            self._out.clear()
            self._err.clear()
            return
        if self._out:
            self._process.stdout.write("".join(self._out))
            self._out.clear()
        if self._err:
            self._process.stderr.write("".join(self._err))
            self._err.clear()

    async def drain(self) -> None:
        self.flush()
        with contextlib.suppress(asyncssh.Error, OSError):
            await self._process.stdout.drain()


def process_factory(node: SimNode) -> Callable[[asyncssh.SSHServerProcess[str]], Awaitable[None]]:
    async def handle(process: asyncssh.SSHServerProcess[str]) -> None:
        try:
            code = await _session(node, process)
        except (asyncssh.Error, asyncssh.SignalReceived, asyncssh.BreakReceived, OSError):
            return  # the client went away (or signalled) mid-upload: nobody is left to answer
        if not process.is_closing():
            process.exit(code)

    return handle


async def _session(node: SimNode, process: asyncssh.SSHServerProcess[str]) -> int:
    command = process.command
    if command is None:
        process.stderr.write("k8stui-sim: interactive shells are not simulated; send a command\n")
        return 1
    node.commands.append(command)
    action = classify(command)
    refused = await _privileges(node, command, action, process)
    if refused is not None:
        process.stderr.write(refused[0] + "\n")
        await _swallow_stdin(process)
        return refused[1]
    if isinstance(action, Upload):
        return await _upload(node, action, process)
    if isinstance(action, Exec):
        return await _exec(node, action, process)
    if isinstance(action, Kill):
        return _kill(node, action, process)
    if isinstance(action, Install):
        return _install(node, action.source, process)
    return _plain(node, action, process)


async def _upload(node: SimNode, action: Upload, process: asyncssh.SSHServerProcess[str]) -> int:
    data = await process.stdin.read(MAX_SCRIPT_BYTES + 1)
    rest = data
    while rest and len(data) <= MAX_SCRIPT_BYTES:
        rest = await process.stdin.read(MAX_SCRIPT_BYTES + 1 - len(data))
        data += rest
    if len(data) > MAX_SCRIPT_BYTES:
        process.stderr.write("k8stui-sim: script too large\n")
        return 1
    node.scripts[script_name(action.path)] = data
    return 0


async def _privileges(node: SimNode, command: str, action: Command,
                      process: asyncssh.SSHServerProcess[str]) -> tuple[str, int] | None:
    """(sudo's or the kernel's complaint, exit status) when a non-root login may not do this."""
    world = node.world
    if world.spec.ssh.user == "root":
        return None
    use = sudo_use(split(command)) if command.lstrip().startswith("sudo") else SudoUse()
    if not use.used:
        problem = denied(action)
        return (problem, 126 if isinstance(action, Exec) else 1) if problem else None
    given = None
    if use.stdin and world.sudo_password is not None:
        given = (await process.stdin.readline()).rstrip("\n")  # only the password line, as sudo reads
    problem = refusal(use, world.sudo_password, given)
    return (problem, EXIT_SUDO_FAILED) if problem else None


async def _swallow_stdin(process: asyncssh.SSHServerProcess[str]) -> None:
    """Take what the client is still sending (briefly), as a real pipe buffer would, so a refused
    upload reports its error instead of a broken pipe on the client's side."""
    with contextlib.suppress(asyncio.TimeoutError, asyncssh.Error, asyncssh.SignalReceived, OSError):
        await asyncio.wait_for(process.stdin.read(), STDIN_GRACE)


def _install(node: SimNode, source: str, process: asyncssh.SSHServerProcess[str]) -> int:
    """Staged scripts are stored by file name, so an install only checks the source exists."""
    if script_name(source) in node.scripts:
        return 0
    process.stderr.write(f"install: cannot stat '{source}': No such file or directory\n")
    return 1


def _kill(node: SimNode, action: Kill, process: asyncssh.SSHServerProcess[str]) -> int:
    victims = [task for key, task in node.running.items() if _targets(action, key)]
    for task in victims:
        task.cancel()
    if victims or action.pidfiles:
        return 0  # the engine's killer skips pidfiles that are gone and exits 0
    process.stderr.write("kill: (4242) - No such process\n")
    return 1


def _targets(kill: Kill, key: str) -> bool:
    """Does the kill name the running step registered as `key` (its pidfile or its script name)?"""
    if not kill.pidfiles and not kill.scripts:
        return True
    stem = key.removesuffix(".sh")
    by_pid = any(p in (key, f"{key}.pid", f"{stem}.pid") for p in kill.pidfiles)
    return by_pid or any(key == s or key.startswith(s.removesuffix(".sh") + "-") for s in kill.scripts)


def _plain(node: SimNode, action: Plain, process: asyncssh.SSHServerProcess[str]) -> int:
    if action.started:
        process.stdout.write(STARTED + "\n")
    reply = diag.answer(node, action.text)
    process.stdout.write(reply.out)
    process.stderr.write(reply.err)
    return reply.code


def _script(node: SimNode, action: Exec) -> tuple[str, str] | str:
    """(step id, content) of the script to run, or an error message."""
    if action.staged_from and script_name(action.staged_from) not in node.scripts:
        return f"install: cannot stat '{action.staged_from}': No such file or directory"
    content = node.scripts.get(script_name(action.path))
    if content is None:
        return f"bash: {action.path}: No such file or directory"
    step, target = node.script_header(content)
    if step is None:
        return f"k8stui-sim: {action.path} has no '# k8stui-step: <id> <node>' header"
    if target and target != node.name:
        return f"k8stui-sim: {action.path} was rendered for node {target}, not {node.name}"
    return step, content


async def _exec(node: SimNode, action: Exec, process: asyncssh.SSHServerProcess[str]) -> int:
    found = _script(node, action)
    if isinstance(found, str) and found.startswith("install:"):
        process.stderr.write(found + "\n")
        return 125 if action.started else 1
    if action.started:
        process.stdout.write(STARTED + "\n")
    if isinstance(found, str):
        process.stderr.write(found + "\n")
        return 127 if found.startswith("bash:") else 2
    step, content = found
    key = action.pid or script_name(action.path)
    output = _Output(process)
    task = asyncio.ensure_future(node.play(step, action.mode, content, output))
    node.running[key] = task
    watcher = asyncio.ensure_future(_interrupted(process))
    try:
        done, _ = await asyncio.wait({task, watcher}, timeout=action.timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if node.running.get(key) is task:
            del node.running[key]
    output.flush()
    if task in done:
        return EXIT_TERMINATED if task.cancelled() else task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    output.flush()
    return EXIT_TERMINATED if watcher in done else EXIT_TIMEOUT


async def _interrupted(process: asyncssh.SSHServerProcess[str]) -> None:
    """Return when the client signals the session or the channel closes (stdin is drained)."""
    try:
        while await process.stdin.read(65536):
            pass
    except (asyncssh.SignalReceived, asyncssh.BreakReceived):
        return
    except (asyncssh.Error, OSError):
        return
    await process.channel.wait_closed()
