"""One remote process of a node session: its exec channel, the streaming of its output, and the
bookkeeping needed to kill it (the pidfile its wrapper wrote)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncssh

from k8stui.engine import remote

OnLine = Callable[[str, str], None]  # (stream "out" | "err", line without its newline)


@dataclass
class Running:
    """A remote process we started and may have to kill: its channel and its pidfile."""

    proc: asyncssh.SSHClientProcess
    pidfile: remote.RemotePath
    sudo: bool
    cancelled: bool = False
    # Set when we hung up but the node never closed the channel: stop waiting for its output.
    abandoned: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Watch:
    """What the output told us so far: did the wrapper start (sudo let us in)? sudo's own words."""

    started: bool = False
    early_err: list[str] = field(default_factory=list)


async def still_open(running: list[Running], seconds: float) -> list[Running]:
    """Wait up to `seconds` for the channels to close by themselves; return the ones that did not."""
    waits = {asyncio.ensure_future(r.proc.wait_closed()): r for r in running}
    _, pending = await asyncio.wait(waits, timeout=seconds)
    for future in pending:
        future.cancel()
    return [waits[f] for f in pending]


async def start(conn: asyncssh.SSHClientConnection, command: str,
                 password: str | None) -> asyncssh.SSHClientProcess:
    """Open the exec channel; the sudo password (if any) is the only thing ever written to stdin."""
    proc = await conn.create_process(command, encoding="utf-8", errors="replace")
    if password is not None:
        proc.stdin.write(password + "\n")
    proc.stdin.write_eof()
    return proc


async def pump(running: Running, on_line: OnLine, watch: Watch) -> int | None:
    """Stream both outputs until the channel closes (or we abandon it); return the exit status."""
    proc = running.proc
    out, err = _read(proc.stdout, "out", on_line, watch), _read(proc.stderr, "err", on_line, watch)
    streams = asyncio.gather(out, err)
    given_up = asyncio.ensure_future(running.abandoned.wait())
    try:
        await asyncio.wait({streams, given_up}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        given_up.cancel()
        if not streams.done():
            streams.cancel()
    if not streams.done() or streams.cancelled():
        return proc.returncode  # abandoned: the node never closed the channel
    streams.result()  # re-raise a read error (a dropped connection)
    await proc.wait()
    return proc.returncode


async def _read(stream: asyncssh.SSHReader, tag: str, on_line: OnLine, watch: Watch) -> None:
    while True:
        raw = await stream.readline()
        if not raw:  # EOF (a last line without a newline still arrives non-empty)
            return
        line = str(raw).rstrip("\n")
        if tag == "out" and not watch.started and line == remote.STARTED:
            watch.started = True
            continue
        if tag == "err" and not watch.started:
            watch.early_err.append(line)
        on_line(tag, line)
