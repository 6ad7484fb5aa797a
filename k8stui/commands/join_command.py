"""`k8stui join-command -f FILE`: a fresh join command from the first control plane.

Runs `kubeadm token create --print-join-command` there; the new token is a credential, so it is
printed to stdout only (never logged).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from k8stui.commands._engine import (
    EXIT_FAILED,
    CommandError,
    guarded,
    load_spec,
    secrets_for,
    session_factory,
)
from k8stui.engine.errors import SSHError
from k8stui.model.cluster import ClusterSpec

COMMAND = "kubeadm token create --print-join-command"
TIMEOUT = 60.0


def run(args: argparse.Namespace) -> int:
    return guarded(lambda: _join_command(args))


def _join_command(args: argparse.Namespace) -> int:
    spec = load_spec(args.file)
    first = spec.first_control_plane
    if first is None:
        raise CommandError(f"{args.file} has no control-plane node")
    lines: list[tuple[str, str]] = []
    try:
        code = asyncio.run(_fetch(spec, lines))
    except SSHError as err:
        raise CommandError(err.message, EXIT_FAILED) from None
    joins = [text.strip() for stream, text in lines if stream == "out" and text.startswith("kubeadm join")]
    if code != 0 or not joins:
        for _, text in lines[-10:]:
            print(f"  {text}", file=sys.stderr)
        raise CommandError(f"`{COMMAND}` on {first.name} failed (exit {code})", EXIT_FAILED)
    print(joins[-1])
    return 0


async def _fetch(spec: ClusterSpec, lines: list[tuple[str, str]]) -> int:
    first = spec.first_control_plane
    assert first is not None
    session = session_factory(spec, secrets_for(spec, [first.name]))(first)
    try:
        await session.connect()
        return await session.run_command(COMMAND, timeout=TIMEOUT, on_line=lambda s, t: lines.append((s, t)))
    finally:
        await session.close()
