"""The scheduler: one coroutine per node walks its planned steps; no global barriers.

A step waits only for the (node, step) gates its PlannedStep.waits_for names. A failed step blocks
the rest of its node and, through the gates, its dependents elsewhere; other nodes keep going.
Every selected step ends in a final Status. A semaphore caps the nodes *actively running*: a node
gives its slot back while it waits on another node, so waiting can never deadlock the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Collection, Iterable

from k8stui.engine import certkey
from k8stui.engine.errors import SSHError
from k8stui.engine.events import (
    EngineEvent,
    NodeConnected,
    NodeFinished,
    NodePlanned,
    RunFinished,
    RunStarted,
    Status,
    StepFinished,
    StepResult,
    StepStarted,
    Summary,
)
from k8stui.engine.logs import LogBook
from k8stui.engine.state import RunState
from k8stui.engine.stepexec import RemoteStep, Session, preflight, result
from k8stui.engine.summary import build_summary
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import Facts
from k8stui.recipes.catalog import BY_ID
from k8stui.recipes.plan import PlannedStep, build_plan, replan_node
from k8stui.recipes.step import Kind

SECRET_OUTPUTS = ("token", "certificate_key")
ACKNOWLEDGED = "acknowledged_warnings"  # state output: JSON list of finding codes or texts
Selector = Callable[[PlannedStep], bool]
SAVE_INTERVAL, SAVE_INTERVAL_MAX = 0.25, 2.0  # seconds between state writes during a run (see _Saver)


class _Slot:
    """A node's hold on the concurrency semaphore: taken to run, given back to wait."""

    def __init__(self, sem: asyncio.Semaphore) -> None:
        self._sem = sem
        self._held = False

    async def take(self) -> None:
        if not self._held:
            await self._sem.acquire()
            self._held = True

    def give_back(self) -> None:
        if self._held:
            self._sem.release()
            self._held = False


class _Saver:
    """Writes the state after transitions, coalescing bursts; the write itself runs off the loop.

    At most one write per SAVE_INTERVAL (longer for a big state, up to SAVE_INTERVAL_MAX): with
    hundreds of nodes in flight, transitions come every few ms and each save re-encodes the whole
    state. A kill -9 still finds a complete file (writes are atomic); it may just be that much behind,
    and the steps it missed run again (they are idempotent). `stop` always writes the final state.
    """

    def __init__(self, state: RunState) -> None:
        self.state = state
        self._dirty = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    def touch(self) -> None:
        self._dirty.set()

    async def _loop(self) -> None:
        while not self._stopping:
            await self._dirty.wait()
            if self._stopping:  # `stop` writes the final state itself: not twice
                break
            self._dirty.clear()
            began = time.perf_counter()
            data = self.state.snapshot()
            # The encoding holds the event loop: a big state (a few hundred nodes' port probes) waits
            # proportionally longer before the next one, so saving stays a small share of the loop.
            pause = min(SAVE_INTERVAL_MAX, max(SAVE_INTERVAL, 20 * (time.perf_counter() - began)))
            await asyncio.to_thread(self.state.write, data)
            with contextlib.suppress(asyncio.TimeoutError):  # let transitions pile up (or stop)
                await asyncio.wait_for(self._stopped.wait(), pause)

    async def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        self._dirty.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.state.save()


class Runner:
    def __init__(self, spec: ClusterSpec, *, state: RunState, session_factory: Callable[[NodeSpec], Session],
                 on_event: Callable[[EngineEvent], None], concurrency: int = 32, dry_run: bool = False,
                 only_nodes: Collection[str] | None = None, only_steps: Collection[str] | None = None,
                 acknowledged_warnings: Iterable[str] = (), logs: LogBook | None = None) -> None:
        self.spec = spec
        self.state = state
        self.session_factory = session_factory
        self.on_event = on_event
        self.dry_run = dry_run
        self.only_nodes = set(only_nodes or ())
        self.only_steps = set(only_steps or ())
        self.acknowledged_warnings = self._acknowledge(state, acknowledged_warnings, dry_run)
        self.logs = logs or LogBook(state.logs_dir)
        self.concurrency = max(1, concurrency)
        self.facts: dict[str, Facts] = {n: Facts.from_outputs(v) for n, v in state.facts.items()}
        self.outputs: dict[str, str] = dict(state.outputs)
        for name in SECRET_OUTPUTS:
            self.logs.redact.add(self.outputs.get(name))
        self.plan = build_plan(spec, self.facts or None)
        self._reset()

    @staticmethod
    def _acknowledge(state: RunState, given: Iterable[str], dry_run: bool) -> tuple[str, ...]:
        """Warnings accepted now or by an earlier run: recorded in the state, so retries honour them."""
        try:
            recorded = [str(a) for a in json.loads(state.outputs.get(ACKNOWLEDGED, "[]"))]
        except (ValueError, TypeError):  # a hand-edited state file: start over rather than crash
            recorded = []
        merged = tuple(dict.fromkeys([*recorded, *given]))
        if merged and not dry_run:
            state.set_output(ACKNOWLEDGED, json.dumps(list(merged)))
        return merged

    def _reset(self) -> None:
        self._selected: dict[str, list[PlannedStep]] = {}
        self._results: dict[tuple[str, str], StepResult] = {}
        self._gates: dict[tuple[str, str], asyncio.Future[StepResult]] = {}
        self._sessions: dict[str, Session] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._cancelled = False
        self._key_lock = asyncio.Lock()

    # -- public API ------------------------------------------------------------------------------

    async def run(self) -> Summary:
        """Walk every selected node's plan to the end (or until cancelled)."""
        self.plan = build_plan(self.spec, self.facts or None)  # what earlier runs learned
        unknown = self.only_nodes - {n.name for n in self.spec.nodes}
        if unknown:
            raise ValueError(f"no such node(s): {', '.join(sorted(unknown))}")
        unknown = self.only_steps - set(BY_ID)
        if unknown:
            raise ValueError(f"no such step(s): {', '.join(sorted(unknown))} (see `k8stui plan`)")
        return await self._execute(self._run_selector)

    async def retry(self, node: str, step: str, cont: bool = False) -> Summary:
        """Re-run `step` on `node`; with `cont`, also what follows it there and what it blocked elsewhere."""
        self.plan = build_plan(self.spec, self.facts or None)
        target = self.plan.find(node, step) if node in self.plan.nodes else None
        if target is None:
            raise ValueError(f"step {step!r} is not planned on node {node!r}")
        return await self._execute(self._retry_selector(target, cont), whole_state=True)

    def cancel(self) -> None:
        """Stop: running remote steps are cancelled, everything unfinished ends CANCELLED."""
        self._cancelled = True
        for task in self._tasks:
            task.cancel()

    # -- selection -------------------------------------------------------------------------------

    def _run_selector(self, node: str) -> Selector | None:
        if self.only_nodes and node not in self.only_nodes:
            return None
        steps = self.only_steps
        return lambda p: not steps or p.step.id in steps or p.step.id == "facts"

    def _retry_selector(self, target: PlannedStep, cont: bool) -> Callable[[str], Selector | None]:
        def for_node(node: str) -> Selector | None:
            if node == target.node:
                return lambda p: p.step.id in ("facts", target.step.id) or (cont and p.number > target.number)
            if not cont:
                return None
            return lambda p: self.state.status(node, p.step.id) is Status.BLOCKED
        return for_node

    # -- the run ---------------------------------------------------------------------------------

    async def _execute(self, selector: Callable[[str], Selector | None],
                       whole_state: bool = False) -> Summary:
        """Run the selected steps of `self.plan`; the summary covers this run, or with `whole_state`
        every row on disk."""
        self._reset()
        self._sem = asyncio.Semaphore(self.concurrency)
        self._saver = _Saver(self.state)
        self._saver.start()
        self._selectors = {n.name: selector(n.name) for n in self.spec.nodes}
        for name, pick in self._selectors.items():
            self._selected[name] = [p for p in self.plan.steps(name) if pick and pick(p)]
        walking = [n for n, steps in self._selected.items() if steps]
        planned = {n: tuple(p.step.id for p in self._selected[n]) for n in walking}
        self._emit(RunStarted(self.spec.name, tuple(walking), planned, self.dry_run))
        self._tasks = [asyncio.create_task(self._walk(n)) for n in walking]
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self._saver.stop()
        summary = self._summary(walking, whole_state)
        self._emit(RunFinished(summary))
        return summary

    async def _walk(self, node: str) -> None:
        slot = _Slot(self._sem)
        steps, index = self._selected[node], 0
        try:
            while index < len(steps):
                res = await self._step(steps[index], slot, index, len(steps))
                if steps[index].step.id == "facts" and res.status.done:
                    steps = self._replan(node, steps[index])
                    index = next(i for i, p in enumerate(steps) if p.step.id == "facts")
                if not res.status.done:
                    reason = f"{res.step} on {node} {res.status.value}"
                    self._end_rest(steps[index + 1:], Status.BLOCKED, reason)
                    break
                index += 1
        except asyncio.CancelledError:
            self._end_rest(steps[index:], Status.CANCELLED, "cancelled")
        finally:
            slot.give_back()
            await self._close(node)
            self._settle(node)
            ok = all(self._results.get(p.key, None) and self._results[p.key].status.done for p in steps)
            self._emit(NodeFinished(node, bool(ok)))

    async def _step(self, planned: PlannedStep, slot: _Slot, index: int, total: int) -> StepResult:
        blocker = await self._wait(planned, slot)
        if blocker:
            return self._finish(result(planned, Status.BLOCKED, None, message=blocker))
        await slot.take()
        started = time.time()
        log = self.logs.node(planned.node)
        if not self.dry_run:  # a dry run must not make `status` or `retry` believe anything ran
            self.state.mark_running(planned.node, planned.step.id, started, log.offset())
            self._saver.touch()
        self._emit(StepStarted(planned.node, planned.step.id, index + 1, total))
        if planned.step.kind is Kind.LOCAL:
            ack = self.acknowledged_warnings
            return self._finish(preflight(self.spec, planned, self.facts, log, self._emit, started, ack,
                                          self.outputs))
        return self._finish(await self._remote(planned, started))

    async def _remote(self, planned: PlannedStep, started: float) -> StepResult:
        mode = self._mode(planned)
        if mode is None:
            return result(planned, Status.SKIPPED, started, message="not run in a dry run")
        log = self.logs.node(planned.node)
        if planned.step.id == "join-control-plane" and mode == "run" and certkey.stale(self.outputs):
            problem = await self._fresh_certificate_key()
            if problem:
                log.note(planned.step.id, f"=== {problem}")
                return result(planned, Status.FAILED, started, message=problem)
        try:
            script = self.plan.render(planned, self.facts, self.outputs)
        except Exception as err:  # a template bug must fail this step, not the whole run
            message = f"could not render {planned.script}: {type(err).__name__}: {err}"
            log.note(planned.step.id, message)
            return result(planned, Status.FAILED, started, message=message)
        try:
            session = await self._session(planned.node)
        except (SSHError, OSError) as err:
            message = getattr(err, "message", None) or f"cannot connect: {err}"
            log.note(planned.step.id, f"=== {message}")
            return result(planned, Status.FAILED, started, message=message)
        outcome = await RemoteStep(planned, session, log, self._emit).run(script, mode, started)
        self._publish(planned, outcome.outputs)
        return outcome.result

    async def _fresh_certificate_key(self) -> str:
        """Re-upload the control-plane certificates when init's key nears its 2 h expiry ("" = fine)."""
        async with self._key_lock:  # several control planes may join at once: one refresh
            if not certkey.stale(self.outputs):
                return ""
            values, problem = await certkey.refresh(self.spec, self.plan, self.facts, self.outputs,
                                                    session_factory=self.session_factory, logs=self.logs,
                                                    emit=self._emit)
            first = self.spec.first_control_plane
            init = self.plan.find(first.name, "init") if values and first else None
            if init is not None:
                self._publish(init, values)
            return problem

    def _mode(self, planned: PlannedStep) -> str | None:
        if not self.dry_run or planned.step.id == "facts":
            return "run"
        return "check" if planned.step.changes else None

    async def _wait(self, planned: PlannedStep, slot: _Slot) -> str:
        """Wait for the step's cross-node gates; the reason it is blocked, or "" when it may run."""
        for key in planned.waits_for:
            gate = self._gate(key)
            if not gate.done():
                slot.give_back()
            res = await gate
            if not res.status.done:
                return f"{key[1]} on {key[0]} {res.status.value}"
        return ""

    # -- gates -----------------------------------------------------------------------------------

    def _gate(self, key: tuple[str, str]) -> asyncio.Future[StepResult]:
        if key not in self._gates:
            self._gates[key] = asyncio.get_running_loop().create_future()
            if not any(p.step.id == key[1] for p in self._selected.get(key[0], [])):
                self._gates[key].set_result(self._previous(key))
        return self._gates[key]

    def _previous(self, key: tuple[str, str]) -> StepResult:
        """A step this run does not execute: what this run or the state says of it."""
        if key in self._results:
            return self._results[key]
        row = self.state.row(*key)
        if row is None or row.state is Status.RUNNING:
            return StepResult(key[0], key[1], Status.PENDING, message="has not run")
        return StepResult(key[0], key[1], row.state, message=row.message)

    def _open(self, key: tuple[str, str], res: StepResult) -> None:
        gate = self._gate(key)
        if not gate.done():
            gate.set_result(res)

    def _settle(self, node: str) -> None:
        """The node is done walking: no gate of it may stay pending (that would hang its waiters)."""
        for key in [k for k in self._gates if k[0] == node]:
            self._open(key, self._previous(key))

    def _replan(self, node: str, facts_step: PlannedStep) -> list[PlannedStep]:
        """The node's OS is known now: rebuild its plan (OS-dependent steps) and keep the selection."""
        pick = self._selectors[node]
        fresh = replan_node(self.plan, node, self.facts)
        steps = [p for p in fresh if pick and (pick(p) or p.step.id == facts_step.step.id)]
        if [p.step.id for p in steps] != [p.step.id for p in self._selected[node]]:
            self._emit(NodePlanned(node, tuple(p.step.id for p in steps)))
        self._selected[node] = steps
        for key in [k for k, g in self._gates.items() if k[0] == node and not g.done()]:
            if not any(p.step.id == key[1] for p in steps):
                self._open(key, self._previous(key))
        return steps

    # -- results ---------------------------------------------------------------------------------

    def _finish(self, res: StepResult) -> StepResult:
        self._results[(res.node, res.step)] = res
        if not self.dry_run:
            self.state.record(res)
            self._saver.touch()
        self._open((res.node, res.step), res)
        self._emit(StepFinished(res))
        return res

    def _end_rest(self, steps: Iterable[PlannedStep], status: Status, message: str) -> None:
        for planned in steps:
            if planned.key not in self._results:
                self._finish(result(planned, status, None, message=message))

    def _publish(self, planned: PlannedStep, values: dict[str, str]) -> None:
        if not values:
            return
        if planned.step.id == "facts":
            self.facts[planned.node] = Facts.from_outputs(values)
            self.state.set_facts(planned.node, values)
            return
        if certkey.KEY in values:  # its age decides when a late control-plane join needs a new one
            values = {**values, certkey.STAMP: f"{time.time():.0f}"}
        for name, value in values.items():
            if planned.step.node_outputs:  # every node publishes these names: keep each node's value
                name = f"{name}@{planned.node}"
            if name in SECRET_OUTPUTS:
                self.logs.redact.add(value)
            self.state.set_output(name, value)
            if name != "kubeconfig_b64":
                self.outputs[name] = value

    # -- sessions --------------------------------------------------------------------------------

    async def _session(self, node: str) -> Session:
        if node not in self._sessions:
            session = self.session_factory(self.spec.node(node))
            detail = await session.connect()
            self._sessions[node] = session
            self._emit(NodeConnected(node, detail))
        return self._sessions[node]

    async def _close(self, node: str) -> None:
        session = self._sessions.pop(node, None)
        if session is not None:
            with contextlib.suppress(SSHError, OSError):
                await asyncio.shield(session.close())

    def _emit(self, event: EngineEvent) -> None:
        self.on_event(event)

    def _summary(self, walking: list[str], whole_state: bool) -> Summary:
        results = dict(self._results)
        if whole_state:
            planned = {p.key for p in self.plan}
            results = {key: self._previous(key) for key in planned if self.state.row(*key)} | results
        logs = {n: str(self.logs.path(n)) for n in sorted({k[0] for k in results})}
        return build_summary(self.spec.name, self.state, results, self._cancelled, logs)
