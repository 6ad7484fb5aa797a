"""What a running step prints: markers parsed out, the rest logged, batched into StepOutput events.

Markers (`::k8stui-output::`, `::k8stui-status::`, `::k8stui-progress::`) never reach the log or
the screen. Human lines are redacted, appended to the node's log and flushed as one StepOutput per
~50 ms or 100 lines, so a chatty `apt-get` does not flood the event consumers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from types import TracebackType

from k8stui.engine.events import EngineEvent, StepOutput, StepProgress
from k8stui.engine.logs import NodeLog
from k8stui.recipes.protocol import OUTPUT, PROGRESS, STATUS, is_marker, parse_output

FLUSH_SECONDS = 0.05
FLUSH_LINES = 100
TAIL_LINES = 20


class OutputSink:
    """Collects one step's output; use `on_line` as the session callback, inside `async with`."""

    def __init__(self, node: str, step: str, log: NodeLog, emit: Callable[[EngineEvent], None]) -> None:
        self.node = node
        self.step = step
        self.log = log
        self.emit = emit
        self.outputs: dict[str, str] = {}
        self.status: str | None = None  # "skipped" | "changed" from ::k8stui-status::
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._pending: list[tuple[str, str]] = []
        # A timer armed by the first unflushed line: most steps print a few lines and end within
        # 50 ms, so a ticking task per step (hundreds in flight in a fan-out) mostly woke for nothing.
        self._timer: asyncio.TimerHandle | None = None
        self._open = False

    def on_line(self, stream: str, line: str) -> None:
        line = line.rstrip("\r\n")
        if is_marker(line):
            self._marker(line)
            return
        text = self.log.redact(line)
        self._pending.append((stream, text))
        self.tail.append(text)
        if len(self._pending) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None and self._open:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def _marker(self, line: str) -> None:
        if line.startswith(OUTPUT):
            parsed = parse_output(line)
            if parsed:
                self.outputs[parsed[0]] = parsed[1]
        elif line.startswith(STATUS):
            self.status = line[len(STATUS):].strip()
        elif line.startswith(PROGRESS):
            self.emit(StepProgress(self.node, self.step, self.log.redact(line[len(PROGRESS):].strip())))

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        self.log.write(self.step, lines)
        self.emit(StepOutput(self.node, self.step, tuple(lines)))

    async def __aenter__(self) -> OutputSink:
        self._open = True
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._open = False
        self.flush()
