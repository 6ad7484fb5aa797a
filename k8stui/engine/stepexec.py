"""Running one planned step: a remote script over a node's session, or a local (preflight) decision.

The scheduler (runner.py) decides *when* a step runs; this module decides *how* and turns what
happened into a StepResult: exit codes, markers, timeouts and diagnostics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from k8stui.engine.errors import SSHError, StepTimeout
from k8stui.engine.events import EngineEvent, Status, StepOutput, StepResult
from k8stui.engine.logs import NodeLog
from k8stui.engine.output import OutputSink
from k8stui.model.cluster import ClusterSpec
from k8stui.model.facts import Facts
from k8stui.recipes.plan import PlannedStep
from k8stui.recipes.protocol import EXIT_SUDO, EXIT_VERIFY_FAILED

LineCallback = Callable[[str, str], None]
DIAGNOSTIC_TIMEOUT = 30.0
# Local safety net on top of the session's own (remote + local) timeout enforcement.
TIMEOUT_GRACE = 15.0


class Session(Protocol):
    """What the runner needs of a node connection (k8stui.engine.ssh.NodeSession implements it)."""

    async def connect(self) -> str: ...

    async def run_script(self, name: str, text: str, mode: str = "run", *, timeout: float,
                         on_line: LineCallback) -> int: ...

    async def run_command(self, command: str, *, timeout: float, on_line: LineCallback,
                          privileged: bool = True) -> int: ...

    async def cancel(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Outcome:
    """A finished step: its result plus the values it published (`::k8stui-output::`)."""

    result: StepResult
    outputs: dict[str, str]


def exit_message(code: int) -> str:
    if code == EXIT_VERIFY_FAILED:
        return "apply finished but the check still says the step is not done"
    if code == EXIT_SUDO:
        return "sudo refused to run the step (password needed or wrong, or requiretty)"
    return f"exited with code {code}"


def result(planned: PlannedStep, status: Status, started: float | None, **kw: object) -> StepResult:
    return StepResult(planned.node, planned.step.id, status, started=started, finished=time.time(), **kw)  # type: ignore[arg-type]


class RemoteStep:
    """One execution of one planned step's script on a connected session."""

    def __init__(self, planned: PlannedStep, session: Session, log: NodeLog,
                 emit: Callable[[EngineEvent], None]) -> None:
        self.planned = planned
        self.session = session
        self.log = log
        self.emit = emit
        self.sink = OutputSink(planned.node, planned.step.id, log, emit)

    async def run(self, script: str, mode: str, started: float) -> Outcome:
        step = self.planned.step
        self.log.note(step.id, f"=== {self.planned.script} {mode} (timeout {step.timeout:g}s)")
        try:
            code = await self._execute(script, mode)
        except (StepTimeout, asyncio.TimeoutError):
            await self._cancel_remote()
            return await self._failed(started, None, f"timed out after {step.timeout:g}s")
        except SSHError as err:
            return await self._failed(started, None, err.message, diagnose=False)
        except asyncio.CancelledError:
            self.log.note(step.id, "=== cancelled")
            await self._cancel_remote()
            raise
        self.log.note(step.id, f"=== exit {code}")
        if mode == "check":
            return self._checked(code, started)
        if code != 0:
            return await self._failed(started, code, exit_message(code))
        status = Status.SKIPPED if self.sink.status == "skipped" else Status.OK
        message = "already in place" if status is Status.SKIPPED else ""
        return Outcome(result(self.planned, status, started, exit_code=0, message=message), self.sink.outputs)

    async def _execute(self, script: str, mode: str) -> int:
        timeout = self.planned.step.timeout
        async with self.sink:
            call = self.session.run_script(self.planned.script, script, mode, timeout=timeout,
                                           on_line=self.sink.on_line)
            return await asyncio.wait_for(call, timeout + TIMEOUT_GRACE)

    def _checked(self, code: int, started: float) -> Outcome:
        """Dry run: exit 0 means the effect is in place; anything else means apply would change it."""
        if code == 0:
            res = result(self.planned, Status.SKIPPED, started, exit_code=0, message="already in place")
        else:
            res = result(self.planned, Status.OK, started, exit_code=code, message="would change",
                         would_change=True)
        return Outcome(res, {})

    async def _failed(self, started: float, code: int | None, message: str, diagnose: bool = True) -> Outcome:
        tail = tuple(self.sink.tail)
        self.log.note(self.planned.step.id, f"=== failed: {message}")
        if diagnose:
            await self.diagnose()
        res = result(self.planned, Status.FAILED, started, exit_code=code, message=message, tail=tail)
        return Outcome(res, {})

    async def _cancel_remote(self) -> None:
        try:
            await asyncio.shield(self.session.cancel())
        except (SSHError, OSError) as err:
            self.log.note(self.planned.step.id, f"could not cancel the remote step: {err}")

    async def diagnose(self) -> None:
        """Collect the step's diagnostics into the log (and the screen); never raises."""
        for command in self.planned.step.diagnostics:
            self.log.note(self.planned.step.id, f"--- diagnostics: {command}")
            sink = OutputSink(self.planned.node, self.planned.step.id, self.log, self.emit)
            try:
                async with sink:
                    await asyncio.wait_for(
                        self.session.run_command(command, timeout=DIAGNOSTIC_TIMEOUT, on_line=sink.on_line),
                        DIAGNOSTIC_TIMEOUT + TIMEOUT_GRACE)
            except (SSHError, asyncio.TimeoutError, OSError) as err:
                self.log.note(self.planned.step.id, f"diagnostics failed: {getattr(err, 'message', err)}")


def emit_lines(emit: Callable[[EngineEvent], None], log: NodeLog, planned: PlannedStep,
               lines: Iterable[str]) -> None:
    """Lines produced by k8stui itself for a step (preflight findings): logged and shown."""
    tagged = [("out", log.redact(line)) for line in lines]
    if tagged:
        log.write(planned.step.id, tagged)
        emit(StepOutput(planned.node, planned.step.id, tuple(tagged)))



def preflight(spec: ClusterSpec, planned: PlannedStep, facts: dict[str, Facts], log: NodeLog,
              emit: Callable[[EngineEvent], None], started: float,
              acknowledged: tuple[str, ...] = (), outputs: dict[str, str] | None = None) -> StepResult:
    """A LOCAL step (preflight, port-matrix): errors fail it (findings shown), warnings are logged and
    let it pass.

    `acknowledged` holds warning texts (or finding codes) the operator already accepted: they are
    still logged, marked as such, and left out of the step's message.
    """
    try:
        notes, findings = evaluate_local(spec, planned, facts, outputs or {})
    except Exception as err:  # a bug in a check must fail this step, not crash the run
        message = f"{planned.step.id} crashed: {type(err).__name__}: {err}"
        return result(planned, Status.FAILED, started, message=message)
    seen = [_finding_line(f, acknowledged) for f in findings]
    emit_lines(emit, log, planned, [*notes, *seen])
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return result(planned, Status.FAILED, started, message=errors[0].text + more, tail=tuple(seen)[-20:])
    open_warnings = [f for f in findings if not _acknowledged(f, acknowledged)]
    return result(planned, Status.OK, started,
                  message=f"{len(open_warnings)} warning(s)" if open_warnings else "")


def _acknowledged(finding: Any, acknowledged: tuple[str, ...]) -> bool:
    return finding.text in acknowledged or getattr(finding, "code", None) in acknowledged


def _finding_line(finding: Any, acknowledged: tuple[str, ...]) -> str:
    """`warning: <found>: <why>. Fix: <fix>  [--ack <code>]`: the code is how an operator accepts it."""
    code = getattr(finding, "code", None)
    if finding.severity != "error" and _acknowledged(finding, acknowledged):
        return f"{finding.severity}: {finding.text} (acknowledged)"
    hint = "" if not code else (f"  [{code}]" if finding.severity == "error" else f"  [--ack {code}]")
    return f"{finding.severity}: {finding.text}{hint}"


def evaluate_local(spec: ClusterSpec, planned: PlannedStep, facts: dict[str, Facts],
                   outputs: dict[str, str]) -> tuple[list[str], list[Any]]:
    """(lines to show, findings) of a LOCAL step, decided from facts and published outputs."""
    if planned.step.id == "port-matrix":
        from k8stui.recipes.portmatrix import matrix_lines

        return matrix_lines(spec, planned.node, outputs)
    return [], evaluate_preflight(spec, planned.node, facts)


def evaluate_preflight(spec: ClusterSpec, node: str, facts: dict[str, Facts]) -> list[Any]:
    """The preflight checks (k8stui.recipes.preflight), imported late: only runs need them."""
    from k8stui.recipes.preflight import evaluate

    return list(evaluate(spec, node, facts))
