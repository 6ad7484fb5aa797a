"""A step's output: markers parsed out, lines redacted and batched into StepOutput events."""

from __future__ import annotations

import asyncio
from pathlib import Path

from k8stui.engine.events import StepOutput, StepProgress
from k8stui.engine.logs import NodeLog, Redactor
from k8stui.engine.output import FLUSH_LINES, OutputSink


async def test_lines_are_batched_by_count_and_by_time(tmp_path: Path) -> None:
    events: list = []
    sink = OutputSink("w1", "kube-packages", NodeLog(tmp_path / "w1.log", Redactor()), events.append)
    async with sink:
        for i in range(FLUSH_LINES * 2 + 5):
            sink.on_line("out", f"line {i}\n")
        assert [len(e.lines) for e in events] == [FLUSH_LINES, FLUSH_LINES]  # full batches go at once
        await asyncio.sleep(0.2)
        assert [len(e.lines) for e in events] == [FLUSH_LINES, FLUSH_LINES, 5]  # the rest within ~50 ms
    lines = [text for e in events if isinstance(e, StepOutput) for _, text in e.lines]
    assert lines == [f"line {i}" for i in range(FLUSH_LINES * 2 + 5)]
    assert len((tmp_path / "w1.log").read_text().splitlines()) == len(lines)
    assert list(sink.tail)[-1] == f"line {FLUSH_LINES * 2 + 4}" and len(sink.tail) == 20


async def test_markers_become_outputs_status_and_progress(tmp_path: Path) -> None:
    events: list = []
    sink = OutputSink("cp1", "init", NodeLog(tmp_path / "cp1.log", Redactor(["s3cret"])), events.append)
    async with sink:
        sink.on_line("out", "::k8stui-output:: token=abcdef.0123456789abcdef")
        sink.on_line("out", "::k8stui-progress:: 2/5 pulling s3cret images")
        sink.on_line("err", "[init] using s3cret")
        sink.on_line("out", "::k8stui-status:: changed")
        sink.on_line("out", "::k8stui-output:: bad name=ignored")
    assert sink.outputs == {"token": "abcdef.0123456789abcdef"} and sink.status == "changed"
    assert [e.text for e in events if isinstance(e, StepProgress)] == ["2/5 pulling <redacted> images"]
    shown = [line for e in events if isinstance(e, StepOutput) for line in e.lines]
    assert shown == [("err", "[init] using <redacted>")]
    assert "::k8stui" not in (tmp_path / "cp1.log").read_text()
