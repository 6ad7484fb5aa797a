"""The headless consumer of engine events: a live table on a TTY, one line per transition otherwise.

Also the summary and the `status` table, and `drive()`, which runs a Runner call with Ctrl-C/SIGTERM
wired to `runner.cancel()` (remote steps are stopped, the state is saved, the exit code is 130).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TextIO

from k8stui.engine.events import (
    EngineEvent,
    NodeConnected,
    NodeFinished,
    NodePlanned,
    RunFinished,
    RunStarted,
    Status,
    StepFinished,
    StepOutput,
    StepProgress,
    StepStarted,
    Summary,
)
from k8stui.engine.state import RunState

REFRESH_SECONDS = 0.2  # ~5 Hz: fast enough to feel live, cheap on a slow SSH terminal
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
MARKS = {
    Status.PENDING: ".", Status.WAITING: "~", Status.RUNNING: ">", Status.OK: "+", Status.SKIPPED: "=",
    Status.FAILED: "X", Status.BLOCKED: "-", Status.CANCELLED: "c",
}


@dataclass
class _Row:
    steps: tuple[str, ...] = ()
    done: int = 0
    current: str = ""
    status: Status = Status.PENDING
    last: str = ""
    failed: bool = False


class Printer:
    """Call it with each event. `live` redraws a node table in place (ANSI); otherwise plain lines."""

    def __init__(self, out: TextIO, *, live: bool = False, width: int = 100) -> None:
        self.out = out
        self.live = live
        self.width = width
        self.rows: dict[str, _Row] = {}
        self._drawn = 0
        self._task: asyncio.Task[None] | None = None

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, NodePlanned):
            self.rows.setdefault(event.node, _Row()).steps = event.steps
        elif isinstance(event, StepStarted):
            self._step_started(event)
        elif isinstance(event, StepFinished):
            self._step_finished(event)
        elif isinstance(event, (StepOutput, StepProgress)) and event.node in self.rows:
            self.rows[event.node].last = _last_text(event)
        elif isinstance(event, NodeConnected) and not self.live:
            self._line(f"{event.node}: connected ({event.detail})")
        elif isinstance(event, NodeFinished) and event.node in self.rows:
            self.rows[event.node].current = ""
        elif isinstance(event, RunFinished) and self.live:
            self.draw()

    def _started(self, event: RunStarted) -> None:
        self.rows = {}  # a retry after a run shows only what it runs
        for node in event.nodes:
            self.rows[node] = _Row(event.steps.get(node, ()))
        what = "dry run (checks only)" if event.dry_run else "apply"
        self._line(f"{what}: cluster {event.cluster}, {len(event.nodes)} node(s)")

    def _step_started(self, event: StepStarted) -> None:
        row = self.rows.setdefault(event.node, _Row())
        row.current, row.status, row.last = event.step, Status.RUNNING, ""
        if not self.live:
            self._line(f"{event.node:<14} {event.step:<20} running ({event.index}/{event.total})")

    def _step_finished(self, event: StepFinished) -> None:
        res = event.result
        row = self.rows.setdefault(res.node, _Row())
        row.done += 1
        row.status = res.status
        row.failed = row.failed or res.status is Status.FAILED
        if self.live and res.status is not Status.FAILED:
            return
        took = f" {res.duration:.1f}s" if res.started else ""
        message = f"  {res.message}" if res.message else ""
        self._line(f"{res.node:<14} {res.step:<20} {res.status.value}{took}{message}")
        for line in res.tail[-5:] if res.status is Status.FAILED else ():
            self._line(f"{'':14} | {line}")

    def _line(self, text: str) -> None:
        if self.live:
            self._erase()
        self.out.write(text + "\n")
        self.out.flush()

    # -- live table ------------------------------------------------------------------------------

    def table(self) -> list[str]:
        lines = []
        for node, row in self.rows.items():
            total = len(row.steps) or row.done
            state = "FAILED" if row.failed else (row.current or ("done" if row.done >= total else "waiting"))
            bar = "#" * (10 * row.done // max(total, 1))
            text = f"{node:<14} [{bar:<10}] {row.done:>2}/{total:<2} {state:<20} {row.last}"
            lines.append(text[: self.width])
        return lines

    def _erase(self) -> None:
        if self._drawn:
            self.out.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def draw(self) -> None:
        self._erase()
        lines = self.table()
        self.out.write("".join(f"{line}\x1b[K\n" for line in lines))
        self.out.flush()
        self._drawn = len(lines)

    async def _refresh(self) -> None:
        while True:
            self.draw()
            await asyncio.sleep(REFRESH_SECONDS)

    def start(self) -> None:
        if self.live:
            self._task = asyncio.create_task(self._refresh())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self.draw()
            self._drawn = 0


async def drive(call: Callable[[], Awaitable[Summary]], cancel: Callable[[], None],
                printer: Printer) -> Summary:
    """Run `call()` with SIGINT/SIGTERM mapped to `cancel()`, the printer refreshing meanwhile."""
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, cancel)
            handled.append(sig)
    printer.start()
    try:
        return await call()
    finally:
        await printer.stop()
        for sig in handled:
            loop.remove_signal_handler(sig)


def exit_code(summary: Summary) -> int:
    if summary.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_OK if summary.ok else EXIT_FAILED


def summary_lines(summary: Summary, config: str = "cluster.yaml") -> list[str]:
    """What the operator needs next, and where to look when something failed."""
    head = "cancelled" if summary.cancelled else ("done" if summary.ok else "FAILED")
    lines = [f"== {summary.cluster}: {head}"]
    if summary.join_command:
        lines += ["join command (add nodes):", f"  {summary.join_command}"]
    if summary.token_expires:
        lines.append(f"token expires: {summary.token_expires}")
    if summary.ca_hash:
        lines.append(f"CA cert hash:  {summary.ca_hash}")
    if summary.kubeconfig:
        lines += [f"kubeconfig:    {summary.kubeconfig}", f"  export KUBECONFIG={summary.kubeconfig}"]
    if summary.node_status:
        lines.append("nodes: " + ", ".join(f"{n} {s}" for n, s in sorted(summary.node_status.items())))
    if summary.smoke_result:
        lines.append(f"smoke test: {summary.smoke_result}")
    for failure in summary.failures:
        log = summary.logs.get(failure.node, "")
        lines.append(f"failed: {failure.node} {failure.step}: {failure.message}  (log: {log})")
        retry = f"k8stui retry -f {config} --node {failure.node} --step {failure.step} --continue"
        lines.append(f"  retry: {retry}")
    return lines


def status_lines(state: RunState, order: dict[str, list[str]] | None = None,
                 running_pid: int | None = None) -> list[str]:
    """The node x step table of the last run(s): one line per step, in plan order when known."""
    if not state.rows:
        return [f"no runs recorded for cluster {state.cluster} (state: {state.dir})"]
    lines = [f"{'NODE':<14} {'STEP':<20} {'STATUS':<10} {'EXIT':>4} {'TIME':>7}  MESSAGE"]
    for node, rows in state.rows.items():
        known = (order or {}).get(node, [])
        for step in sorted(rows, key=lambda s: known.index(s) if s in known else len(known)):
            lines.append(_status_line(node, step, rows[step], running_pid))
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(state.updated or 0))
    lines.append(f"state: {state.path} (updated {when})")
    if state.kubeconfig:
        lines.append(f"kubeconfig: {state.kubeconfig}")
    return lines


def _status_line(node: str, step: str, row: object, running_pid: int | None) -> str:
    status = row.status  # type: ignore[attr-defined]
    if status == Status.RUNNING.value and not running_pid:
        status = "interrupted"  # the run holding it died (no lock holder): a new apply resumes it
    took = f"{row.finished - row.started:.1f}s" if row.finished and row.started else ""  # type: ignore[attr-defined]
    code = "" if row.exit_code is None else str(row.exit_code)  # type: ignore[attr-defined]
    return f"{node:<14} {step:<20} {status:<10} {code:>4} {took:>7}  {row.message}"  # type: ignore[attr-defined]


def _last_text(event: StepOutput | StepProgress) -> str:
    if isinstance(event, StepProgress):
        return event.text
    return event.lines[-1][1] if event.lines else ""
