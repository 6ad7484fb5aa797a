"""TUI storm: the install board under a flood of output from SIMULATED nodes.

N simulated nodes (default 50) print `--rate` lines per second (default 200) while the real engine
installs them for about `--seconds` (default 30), in the running app (`App.run_test`, headless,
140x45). Every 250 ms the benchmark presses an arrow key that moves the board's selection and times
how long until the screen shows it: from posting the key to the first screen update after the
selection changed. It also records the peak RSS of this process and, at the end, checks that every
line the simulated nodes printed is in the on-disk node logs (the board only shows tails).

The simulated nodes run in a child process (`--serve-sim`), so the CPU and RSS figures are the TUI's
and the engine's, as they would be against real machines. Exits 1 when a target is missed.
Usage: python bench/tui_storm.py [--nodes 50] [--seconds 30] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual.app import App  # noqa: E402

import k8stui.ui  # noqa: E402
from k8stui.model.cluster import ClusterSpec  # noqa: E402
from k8stui.model.facts import OsInfo  # noqa: E402
from k8stui.recipes.catalog import BY_ID  # noqa: E402
from k8stui.recipes.step import Kind  # noqa: E402
from k8stui.sim import texts  # noqa: E402
from k8stui.ui.demo import SIM_OPTIONS  # noqa: E402
from k8stui.ui.engine_bridge import EngineSetup  # noqa: E402
from k8stui.ui.files import load_cluster, save_cluster  # noqa: E402
from k8stui.ui.screens.board import BoardScreen  # noqa: E402
from k8stui.ui.widgets.board_grid import BoardGrid  # noqa: E402

P95_TARGET_MS, RSS_TARGET_MB = 100.0, 300.0
PRESS_EVERY = 0.25
REMOTE_STEPS_ON_CP = 15  # the control plane's remote steps: its walk sets the run's length
SIM_OS = "ubuntu-22.04"
LOG_LINE = re.compile(r"^\S+ (\S+) (out|err)\| (.*)$")
FILLER = re.compile(r"^Get:(\d+) http://archive\.ubuntu\.com/ubuntu jammy/main amd64 (\S+)-dep\1 ")


@dataclass
class Result:
    nodes: int
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    stalls: list[float] = field(default_factory=list)  # event-loop lag samples
    rss_peak_mb: float = 0.0
    cpu: float = 0.0
    sim_cpu: float = 0.0  # the child playing the nodes
    load: str = ""  # the machine's load average at the end: the latencies depend on it
    shown_lines: int = 0  # lines the board received from the engine
    disk_lines: int = 0
    missing: list[str] = field(default_factory=list)
    finished: bool = False

    def ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the simulated nodes, in a child process ------------------------------------------------------

def serve_sim(workdir: Path, nodes: int, step_seconds: float, rate: float) -> None:
    asyncio.run(_serve(workdir, nodes, step_seconds, rate))


async def _serve(workdir: Path, nodes: int, step_seconds: float, rate: float) -> None:
    from k8stui.sim.cluster import SimCluster

    async with await SimCluster.start(workdir / "sim", workers=nodes - 1, step_seconds=step_seconds,
                                      lines_per_second=rate, os=SIM_OS) as sim:
        save_cluster(sim.spec, workdir / "cluster.yaml")
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes it


def start_sim(workdir: Path, nodes: int, step_seconds: float, rate: float) -> subprocess.Popen[str]:
    args = [sys.executable, __file__, "--serve-sim", str(workdir), "--nodes", str(nodes),
            "--step-seconds", str(step_seconds), "--rate", str(rate)]
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        child.kill()
        raise RuntimeError("the simulated nodes did not start")
    return child


# -- the app and the measurements -----------------------------------------------------------------

class StormApp(App[None]):
    """The stylesheet and the install board, nothing else."""

    CSS_PATH = str(Path(k8stui.ui.__file__).parent / "app.tcss")

    def __init__(self, board: BoardScreen) -> None:
        super().__init__()
        self.board = board
        self.updates = 0  # screen updates rendered (the headless driver draws nothing, but they are made)
        self.updated = asyncio.Event()

    def on_mount(self) -> None:
        self.push_screen(self.board)

    def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
        # The one place that sees every finished screen update; private, but stable in Textual 8.
        if renderable is not None:
            self.updates += 1
            self.updated.set()
        super()._display(screen, renderable)


class Walker:
    """Picks arrow keys that always move the selection: across, then a row down (up at the bottom)."""

    def __init__(self, board: BoardScreen) -> None:
        self.grid = board.query_one(BoardGrid)
        self.board = board
        self.down = True
        self.presses = 0

    def key(self) -> str:
        self.presses += 1
        panes, columns = self.grid.panes, self.grid.columns
        index = next((i for i, p in enumerate(panes) if p.node == self.board.selected()), 0)
        if self.presses % 2:
            return "right" if index + 1 < len(panes) else "left"
        if self.down and index + columns >= len(panes):
            self.down = False
        elif not self.down and index - columns < 0:
            self.down = True
        return "down" if self.down else "up"


async def press(app: StormApp, key: str, timeout: float = 5.0) -> float | None:
    """Seconds from posting `key` to the first screen update after the selection moved (None: it did not)."""
    board = app.board
    before = board.selected()
    started = time.perf_counter()
    app.post_message(events.Key(key, None))
    while board.selected() == before:
        if time.perf_counter() - started > timeout:
            return None
        await asyncio.sleep(0.001)
    app.updated.clear()
    try:
        await asyncio.wait_for(app.updated.wait(), timeout)
    except asyncio.TimeoutError:
        return timeout  # counted: a screen that did not update for `timeout` seconds is a miss
    return time.perf_counter() - started


async def watch_loop(result: Result, every: float = 0.01) -> None:
    """How late a 10 ms sleep wakes up: the longest time the event loop was busy without a break."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(every)
        result.stalls.append(loop.time() - started - every)


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def storm(spec: ClusterSpec, state_root: Path, seconds: float, result: Result) -> BoardScreen:
    board = BoardScreen(spec, EngineSetup(state_root, SIM_OPTIONS).factory(spec))
    app = StormApp(board)
    started = time.perf_counter()
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        watcher = asyncio.create_task(watch_loop(result))
        walker = Walker(board)
        while not board.model.finished and time.perf_counter() - started < 4 * seconds + 60:
            latency = await press(app, walker.key())
            if latency is not None:
                result.latencies.append(latency)
            result.rss_peak_mb = max(result.rss_peak_mb, rss_mb())
            await asyncio.sleep(PRESS_EVERY)
        watcher.cancel()
        await pilot.pause(0.5)  # the summary screen opens at the end: let it mount before leaving
        result.finished = bool(board.model.summary and board.model.summary.ok)
    result.wall = time.perf_counter() - started
    result.shown_lines = sum(board.bridge.line_counts.values())
    return board


# -- every line on disk ---------------------------------------------------------------------------

def expected_lines(spec: ClusterSpec, node: str, step: str, total: int) -> Counter[str]:
    """What the simulated node printed for `step` (k8stui.sim.node._emit): its lines, then numbered filler."""
    os_info = OsInfo.parse(SIM_OS)
    lines = texts.step_lines(step, spec, spec.node(node), os_info)
    if step == "facts":
        lines = [texts.BANNER.format(name=node), *lines]
    if step == "init":
        return Counter(lines)  # plus the join block, whose token is redacted on disk: checked by count
    count = max(len(lines), total)
    return Counter(lines[i] if i < len(lines) else texts.filler_line(step, i, os_info) for i in range(count))


def check_logs(spec: ClusterSpec, logs: Path, per_step: int, result: Result) -> None:
    for node in spec.nodes:
        seen: dict[str, Counter[str]] = {}
        for raw in (logs / f"{node.name}.log").read_text().splitlines():
            match = LOG_LINE.match(raw)
            if match:
                seen.setdefault(match.group(1), Counter())[match.group(3)] += 1
                result.disk_lines += 1
        for step, found in seen.items():
            if BY_ID[step].kind is Kind.LOCAL:
                continue  # k8stui's own lines (preflight findings), not the node's
            missing = expected_lines(spec, node.name, step, per_step) - found
            result.missing += [f"{node.name} {step}: {line}" for line in missing.elements()]


# -- main -----------------------------------------------------------------------------------------

def run(nodes: int, seconds: float, rate: float) -> Result:
    step_seconds = seconds / REMOTE_STEPS_ON_CP
    result = Result(nodes)
    cpu = time.process_time()
    with tempfile.TemporaryDirectory(prefix="k8stui-storm-") as tmp:
        workdir = Path(tmp)
        child = start_sim(workdir, nodes, step_seconds, rate)
        try:
            spec = load_cluster(workdir / "cluster.yaml")
            asyncio.run(storm(spec, workdir / "state", seconds, result))
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(timeout=30)
        result.cpu = time.process_time() - cpu
        result.sim_cpu = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
        result.load = " ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"
        check_logs(spec, workdir / "state" / spec.name / "logs", int(step_seconds * rate), result)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result.rss_peak_mb = max(result.rss_peak_mb, peak_kb / 1024)
    return result


def report(result: Result, seconds: float, rate: float) -> bool:
    p95 = result.ms(0.95)
    ok_latency, ok_rss = p95 < P95_TARGET_MS, result.rss_peak_mb < RSS_TARGET_MB
    ok_lines = not result.missing and result.finished
    rows = [
        ("nodes x rate", f"{result.nodes} x {rate:g} lines/s, ~{seconds:g} s per node", ""),
        ("run (wall)", f"{result.wall:.1f} s, CPU {result.cpu:.1f} s (TUI + engine), "
         f"{result.sim_cpu:.1f} s (sim)", ""),
        ("machine load", result.load, ""),
        ("lines shown / on disk", f"{result.shown_lines} / {result.disk_lines}", ""),
        ("key -> screen p50", f"{result.ms(0.50):.1f} ms ({len(result.latencies)} presses)", ""),
        ("key -> screen p95", f"{p95:.1f} ms", _mark(ok_latency, f"< {P95_TARGET_MS:g} ms")),
        ("key -> screen max", f"{result.ms(1.0):.1f} ms", ""),
        ("event loop stall max", f"{1000 * max(result.stalls, default=0):.0f} ms "
         f"(p95 {_p95(result.stalls):.0f} ms)", ""),
        ("peak RSS", f"{result.rss_peak_mb:.0f} MB", _mark(ok_rss, f"< {RSS_TARGET_MB:g} MB")),
        ("every line on disk", f"{len(result.missing)} missing, run {'ok' if result.finished else 'FAILED'}",
         _mark(ok_lines, "0 missing")),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value:<48} {verdict}")
    for line in result.missing[:10]:
        print(f"  missing: {line}")
    return ok_latency and ok_rss and ok_lines


def _p95(samples: list[float]) -> float:
    return 1000 * sorted(samples)[int(0.95 * len(samples))] if samples else 0.0


def _mark(ok: bool, target: str) -> str:
    return f"ok ({target})" if ok else f"MISSED ({target})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0, help="lines per second per node")
    parser.add_argument("--serve-sim", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--step-seconds", type=float, default=2.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_sim:
        serve_sim(Path(args.serve_sim), args.nodes, args.step_seconds, args.rate)
        return 0
    result = run(max(2, args.nodes), args.seconds, args.rate)
    return 0 if report(result, args.seconds, args.rate) else 1


if __name__ == "__main__":
    sys.exit(main())
