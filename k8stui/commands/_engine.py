"""What the headless engine commands share: load the file, confirm, lock, passwords, sessions, run."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from k8stui.engine.headless import Printer, drive, exit_code, summary_lines
from k8stui.engine.lock import LockHeld, RunLock
from k8stui.engine.logs import LogBook, Redactor
from k8stui.engine.runner import Runner
from k8stui.engine.secrets_input import SecretsError, all_values, resolve_secrets
from k8stui.engine.ssh import ConnectOptions, NodeSession, Secrets
from k8stui.engine.state import RunState
from k8stui.model.cluster import ClusterSpec, NodeSpec

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class CommandError(Exception):
    """Stop the command with this message and exit code."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def load_spec(path: str) -> ClusterSpec:
    from k8stui.model.load import load_cluster
    from k8stui.model.problems import ClusterFileError

    try:
        return load_cluster(path)
    except ClusterFileError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        raise CommandError(f"{path}: {err.strerror or err}") from None


def state_root(args: argparse.Namespace) -> Path | None:
    root = getattr(args, "state_dir", None)
    return Path(root).expanduser() if root else None


def confirm(question: str, yes: bool) -> None:
    """y/N on a TTY; without a TTY only `--yes` may go ahead (a script must say so explicitly)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CommandError("refusing to change nodes without confirmation: no TTY; pass --yes")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise CommandError("nothing done", EXIT_FAILED)


@contextmanager
def locked(state: RunState) -> Iterator[RunLock]:
    try:
        lock = RunLock(state.lock_path).acquire()
    except LockHeld as held:
        raise CommandError(str(held), EXIT_FAILED) from None
    try:
        yield lock
    finally:
        lock.release()


def secrets_for(spec: ClusterSpec, nodes: list[str] | None) -> Secrets:
    try:
        return resolve_secrets(spec, nodes)
    except SecretsError as err:
        raise CommandError(str(err)) from None


def session_factory(spec: ClusterSpec, secrets: Secrets) -> Callable[[NodeSpec], NodeSession]:
    options = ConnectOptions()
    return lambda node: NodeSession(node, spec.ssh_for(node), secrets=secrets, options=options)


def make_runner(spec: ClusterSpec, state: RunState, secrets: Secrets, printer: Printer,
                **kw: object) -> Runner:
    logs = LogBook(state.logs_dir, Redactor(all_values(secrets)))
    return Runner(spec, state=state, session_factory=session_factory(spec, secrets), on_event=printer,
                  logs=logs, **kw)  # type: ignore[arg-type]


def execute(runner: Runner, call: Callable[[], Awaitable[object]], printer: Printer, config: str) -> int:
    """Run the call under the signal handlers, print the summary, map it to an exit code."""
    summary = asyncio.run(drive(call, runner.cancel, printer))  # type: ignore[arg-type]
    print("\n".join(summary_lines(summary, config)))
    return exit_code(summary)


def printer() -> Printer:
    return Printer(sys.stdout, live=sys.stdout.isatty())


def guarded(body: Callable[[], int]) -> int:
    try:
        return body()
    except CommandError as err:
        print(f"k8stui: {err}", file=sys.stderr)
        return err.code
