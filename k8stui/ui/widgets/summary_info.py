"""What the Summary screen says, as plain functions (tested without Textual), and the join-command I/O."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.markup import escape

from k8stui.engine.events import Summary
from k8stui.engine.state import write_private
from k8stui.engine.stepexec import Session
from k8stui.model.cluster import ClusterSpec, NodeSpec

JOIN_COMMAND = "kubeadm token create --print-join-command"  # as `k8stui join-command` runs it
JOIN_TIMEOUT = 60.0
NEW_TOKEN_TTL = 24 * 3600  # kubeadm's default for `token create`
JOIN_FILE = "join-command.txt"


def headline(summary: Summary) -> str:
    if summary.cancelled:
        return f"[yellow]■[/] Install of cluster [b]{escape(summary.cluster)}[/] was cancelled"
    if summary.ok:
        return f"[green]✓[/] Cluster [b]{escape(summary.cluster)}[/] is installed"
    return f"[red]✗[/] Install of cluster [b]{escape(summary.cluster)}[/] finished with failures"


def detail_lines(summary: Summary, log_dir: str | None) -> list[str]:
    """Token, CA hash, kubeconfig (and the export line), smoke test, where the logs are."""
    lines = [
        f"[dim]token expires[/]  {escape(summary.token_expires or 'unknown')}",
        f"[dim]CA cert hash[/]   {escape(summary.ca_hash or 'not published (init did not run)')}",
    ]
    if summary.kubeconfig:
        lines += [
            f"[dim]kubeconfig[/]     {escape(summary.kubeconfig)}",
            f"               [b]export KUBECONFIG={escape(summary.kubeconfig)}[/]",
        ]
    else:
        lines.append("[dim]kubeconfig[/]     not fetched yet")
    smoke = summary.smoke_result or "not run"
    color = "green" if smoke == "passed" else "yellow"
    lines.append(f"[dim]smoke test[/]     [{color}]{escape(smoke)}[/]")
    lines.append(f"[dim]logs[/]           {escape(log_dir or 'none')}")
    return lines


def failure_lines(summary: Summary, config: str) -> list[str]:
    lines = []
    for failure in summary.failures:
        lines.append(f"[red]✗[/] {escape(failure.node)} {escape(failure.step)}: {escape(failure.message)}")
        lines.append(
            f"  [dim]retry:[/] k8stui retry -f {escape(config)} --node {escape(failure.node)} "
            f"--step {escape(failure.step)} --continue"
        )
    return lines


def node_rows(summary: Summary, spec: ClusterSpec) -> list[tuple[str, str, str]]:
    """(name, role, Ready/NotReady/unknown) for every node of the spec, then any the cluster reported."""
    rows = [(n.name, n.role, summary.node_status.get(n.name, "unknown")) for n in spec.nodes]
    known = {n.name for n in spec.nodes}
    rows += [(name, "?", state) for name, state in sorted(summary.node_status.items()) if name not in known]
    return rows


def log_dir(summary: Summary) -> str | None:
    paths = sorted(summary.logs.values())
    return str(Path(paths[0]).parent) if paths else None


def save_join(directory: Path, command: str) -> Path:
    """Write the join command (a credential) to `directory/join-command.txt`, 0600, atomically."""
    path = directory / JOIN_FILE
    write_private(path, (command + "\n").encode())
    return path


def new_token_expiry(now: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((now or time.time()) + NEW_TOKEN_TTL))


async def fresh_join_command(spec: ClusterSpec, sessions: Callable[[NodeSpec], Session]) -> str:
    """Connect to the first control plane and print a new join command (the new token is never logged)."""
    first = spec.first_control_plane
    if first is None:
        raise ValueError("the cluster has no control-plane node")
    lines: list[tuple[str, str]] = []
    session = sessions(first)
    try:
        await session.connect()
        code = await session.run_command(
            JOIN_COMMAND, timeout=JOIN_TIMEOUT, on_line=lambda stream, text: lines.append((stream, text))
        )
    finally:
        await session.close()
    joins = [text.strip() for stream, text in lines if stream == "out" and text.startswith("kubeadm join")]
    if code != 0 or not joins:
        last = lines[-1][1] if lines else "no output"
        raise ValueError(f"`{JOIN_COMMAND}` on {first.name} failed (exit {code}): {last}")
    return joins[-1]
