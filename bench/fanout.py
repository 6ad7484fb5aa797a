"""Fan-out benchmark: k8stui's engine against a raw asyncssh baseline, on SIMULATED nodes.

For each cluster size the simulator (k8stui.sim, in this same process, instant steps) plays the
nodes. First the real engine (`Runner` with one `NodeSession` per node, all nodes in flight) runs the
real plan (`build_plan(sim.spec)`, every planned remote step's rendered script). Then, on the same
nodes reset to "nothing applied", the baseline replays exactly the exec commands the engine sent
(same uploads, same wrappers, same count) over one plain asyncssh connection per node, step by step
with the plan's own cross-node waits (facts before preflight, init before joins, ...). The ratio
of the two wall times is the engine's overhead: planning, scheduling, state and log files, output
parsing. Both columns include the simulated servers' own CPU, since they share the process.

Also measures `k8stui --help` start-up (median of 5 subprocess runs). Always exits 0.
Usage: python bench/fanout.py [--nodes 1,10,50,200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from k8stui.engine.runner import Runner  # noqa: E402
from k8stui.engine.ssh import ConnectOptions, NodeSession, Secrets  # noqa: E402
from k8stui.engine.state import RunState  # noqa: E402
from k8stui.model.cluster import NodeSpec  # noqa: E402
from k8stui.recipes.plan import Plan, build_plan  # noqa: E402
from k8stui.sim import SimCluster  # noqa: E402
from k8stui.sim.commands import SCRIPT_RE, Upload, classify, script_name  # noqa: E402

RATIO_TARGET, RATIO_AT = 1.5, 50
STARTUP_TARGET = 0.5
REPEAT_UP_TO = 50  # bigger rounds take long enough to be steadier; they run once


@dataclass
class Measure:
    wall: float
    cpu: float
    mem_peak: int  # bytes: tracemalloc peak, or (untraced rounds) peak RSS above the start
    ok: bool
    traced: bool = False


def _rss() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak so far is the best we have
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measured(work: Callable[[], Awaitable[bool]], trace: bool = False) -> Measure:
    """Wall, CPU and peak memory of one awaited piece of work: the tracemalloc peak when `trace`
    (exact Python heap, but slower), else the RSS peak sampled every 20 ms (cheap, but a warm
    allocator reuses memory freed by earlier rounds, so it under-reports)."""
    gc.collect()
    if trace:
        tracemalloc.start()
    base, peak, done = _rss(), 0, asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss() - base)
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    cpu, wall = _cpu(), time.perf_counter()
    try:
        ok = await work()
    finally:
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        done.set()
        await sampler
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return Measure(wall, cpu, peak, ok, traced=True)
    return Measure(wall, cpu, max(peak, _rss() - base), ok)


async def engine(sim: SimCluster, state_root: Path) -> bool:
    options = ConnectOptions(ssh_config=False, agent=False, connect_timeout=30)

    def session(node: NodeSpec) -> NodeSession:
        return NodeSession(node, sim.spec.ssh_for(node), secrets=Secrets(), options=options)

    state = RunState.open(sim.spec.name, state_root)
    runner = Runner(sim.spec, state=state, session_factory=session, on_event=lambda _event: None,
                    concurrency=len(sim.nodes))
    summary = await runner.run()
    return summary.ok


Sent = dict[str, dict[str, list[tuple[str, str | None]]]]  # node -> step id -> (command, upload stdin)


def recorded(sim: SimCluster) -> Sent:
    """Every exec command the engine sent, per node and step, with the stdin an upload carried."""
    sent: Sent = {}
    for node in sim.nodes:
        steps: dict[str, list[tuple[str, str | None]]] = {}
        for command in node.commands:
            action = classify(command)
            stdin = node.scripts[script_name(action.path)] if isinstance(action, Upload) else None
            scripts = SCRIPT_RE.findall(command)
            step = script_name(scripts[-1])[3:-3] if scripts else ""  # `NN-<id>.sh` -> id
            steps.setdefault(step, []).append((command, stdin))
        sent[node.name] = steps
    return sent


async def baseline(sim: SimCluster, plan: Plan, sent: Sent) -> bool:
    """Replay `sent` over one raw asyncssh connection per node, step by step in plan order, each
    step waiting for the same other-node steps as under the engine (its `waits_for`)."""
    done = {planned.key: asyncio.Event() for planned in plan}

    async def replay(name: str) -> bool:
        ok, steps = True, dict(sent[name])
        async with await sim.connect(name) as conn:
            for planned in plan.steps(name):
                await asyncio.gather(*(done[key].wait() for key in planned.waits_for if key in done))
                for command, stdin in steps.pop(planned.step.id, []):
                    result = await conn.run(command, input=stdin)
                    ok = ok and result.exit_status in (0, 1)  # `check` answers 1 for "not done"
                done[planned.key].set()
            for items in steps.values():  # anything the plan does not name (none expected)
                for command, stdin in items:
                    await conn.run(command, input=stdin)
        return ok

    return all(await asyncio.gather(*(replay(name) for name in sent)))


def reset(sim: SimCluster) -> None:
    for node in sim.nodes:
        node.applied.clear()


async def one_size(count: int, workdir: Path, trace: bool = False) -> tuple[int, Measure, Measure]:
    async with await SimCluster.start(workdir / "sim", workers=count - 1, step_seconds=0) as sim:
        plan = build_plan(sim.spec)
        for planned in plan:  # warm the template cache: compiling Jinja is start-up, not fan-out
            if planned.step.kind.value == "remote":
                plan.render(planned)
        eng = await measured(lambda: engine(sim, workdir / "state"), trace)
        sent = recorded(sim)
        reset(sim)
        raw = await measured(lambda: baseline(sim, plan, sent), trace)
        return sum(len(items) for steps in sent.values() for items in steps.values()), eng, raw


def startup_seconds(runs: int = 5) -> float:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "k8stui", "--help"], check=True, capture_output=True,
                       env=env, timeout=60)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def row(count: int, commands: int, eng: Measure, raw: Measure) -> str:
    ratio = eng.wall / raw.wall if raw.wall else float("inf")
    ms, kb = 1000 / count, 1 / 1024 / count
    return (f"{count:>5} {commands:>6} {eng.wall:>9.2f} {raw.wall:>7.2f} {ratio:>6.2f} "
            f"{eng.cpu * ms:>10.1f} {raw.cpu * ms:>10.1f} "
            f"{eng.mem_peak * kb:>10.0f} {raw.mem_peak * kb:>10.0f}  "
            f"{'ok' if eng.ok and raw.ok else 'FAILED'}{'' if eng.traced else '  (KB: RSS)'}")


async def median_round(count: int, repeat: int, workdir: Path) -> tuple[int, Measure, Measure]:
    """The round with the median engine/raw ratio among `repeat` fresh ones (shared machines are noisy)."""
    rounds = [await one_size(count, workdir / f"round-{i}") for i in range(repeat)]
    rounds.sort(key=lambda r: r[1].wall / r[2].wall if r[2].wall else float("inf"))
    commands, eng, raw = rounds[len(rounds) // 2]
    if count <= REPEAT_UP_TO:  # one more, traced, for exact memory figures
        _, traced_eng, traced_raw = await one_size(count, workdir / "traced", trace=True)
        eng = dataclasses.replace(eng, mem_peak=traced_eng.mem_peak, traced=True)
        raw = dataclasses.replace(raw, mem_peak=traced_raw.mem_peak, traced=True)
    return commands, eng, raw


async def main(sizes: list[int], repeat: int) -> list[tuple[int, int, Measure, Measure]]:
    print("SIMULATED nodes (k8stui.sim, in-process, instant steps); engine = Runner + NodeSession")
    print(f"median of {repeat} rounds for sizes <= {REPEAT_UP_TO} nodes (KB/nd: tracemalloc peak of an "
          "extra round), one round above (KB/nd: RSS peak)")
    print(f"{'nodes':>5} {'cmds':>6} {'engine s':>9} {'raw s':>7} {'ratio':>6} "
          f"{'eng ms/nd':>10} {'raw ms/nd':>10} {'eng KB/nd':>10} {'raw KB/nd':>10}  result")
    results = []
    with tempfile.TemporaryDirectory(prefix="k8stui-bench-") as tmp:
        for count in sizes:
            rounds = repeat if count <= REPEAT_UP_TO else 1
            commands, eng, raw = await median_round(count, rounds, Path(tmp) / str(count))
            print(row(count, commands, eng, raw), flush=True)
            results.append((count, commands, eng, raw))
    return results


def verdicts(results: list[tuple[int, int, Measure, Measure]], startup: float) -> list[str]:
    lines = [f"k8stui --help start-up: median of 5 = {startup:.3f} s "
             f"({'ok' if startup < STARTUP_TARGET else 'MISSED'}, target < {STARTUP_TARGET} s)"]
    for count, _, eng, raw in results:
        if count == RATIO_AT:
            ratio = eng.wall / raw.wall
            verdict = "ok" if ratio <= RATIO_TARGET else "MISSED"
            lines.append(f"engine/raw wall ratio at {count} nodes: {ratio:.2f} ({verdict}, "
                         f"target <= {RATIO_TARGET})")
    return lines


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1,10,50,200", help="comma-separated cluster sizes")
    parser.add_argument("--repeat", type=int, default=3,
                        help=f"rounds per size up to {REPEAT_UP_TO} nodes; the median is shown (default 3)")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.nodes.split(",") if x.strip()]
    results = asyncio.run(main(sizes, max(1, args.repeat)))
    for line in verdicts(results, startup_seconds()):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
