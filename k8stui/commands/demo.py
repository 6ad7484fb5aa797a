"""`k8stui demo [--headless] [--nodes N] [--no-failure] [--speed X]`: the whole flow on SIMULATED nodes.

The nodes are asyncssh servers on loopback addresses in a temporary directory (k8stui.sim): real SSH,
real host-key checks, nothing installed anywhere. Headless, the demo injects one failure on a
worker, shows it, recovers with `retry --continue`, and prints the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from k8stui.engine.events import Summary
from k8stui.engine.headless import Printer, drive, exit_code, summary_lines
from k8stui.engine.logs import LogBook
from k8stui.engine.runner import Runner
from k8stui.engine.ssh import ConnectOptions, NodeSession, Secrets
from k8stui.engine.state import RunState
from k8stui.model.cluster import ClusterSpec, NodeSpec

FAILING_STEP = "containerd"


def run(args: argparse.Namespace) -> int:
    if args.headless:
        return run_headless(args)
    from k8stui.ui.demo import run as run_tui  # the TUI path lives with the UI

    return run_tui(args)


def run_headless(args: argparse.Namespace) -> int:
    if args.nodes < 1:
        print("k8stui demo: --nodes must be at least 1", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="k8stui-demo-") as tmp:
        out = Printer(sys.stdout, live=sys.stdout.isatty())
        summary = asyncio.run(_demo(Path(tmp), args, out))
    return exit_code(summary)


async def _demo(workdir: Path, args: argparse.Namespace, out: Printer) -> Summary:
    from k8stui.sim.cluster import DEMO_VERSION, Fault, SimCluster

    workers = args.nodes - 1
    victim = f"node-{workers}" if workers and not args.no_failure else None
    faults = {(victim, FAILING_STEP): Fault("fail")} if victim else {}
    async with await SimCluster.start(workdir / "sim", workers=workers, speed=args.speed,
                                      faults=faults, version=DEMO_VERSION) as sim:
        _banner(sim.spec.nodes, victim)
        runner = _runner(sim.spec, RunState.open(sim.spec.name, workdir / "state"), out)
        summary = await drive(runner.run, runner.cancel, out)
        if victim and not summary.cancelled and summary.failures:
            print("\n".join(summary_lines(summary, "cluster.yaml")))
            retry = f"k8stui retry --node {victim} --step {FAILING_STEP} --continue"
            print(f"\n-- demo: recovering with `{retry}`")
            summary = await drive(lambda: runner.retry(victim, FAILING_STEP, cont=True), runner.cancel, out)
        print("\n".join(summary_lines(summary, "cluster.yaml")))
        print("-- demo: these nodes were SIMULATED; nothing was installed anywhere.")
        return summary


def _runner(spec: ClusterSpec, state: RunState, out: Printer) -> Runner:
    # The sim writes its own key and known_hosts: ignore ~/.ssh/config and the agent.
    options = ConnectOptions(ssh_config=False, agent=False)

    def session(node: NodeSpec) -> NodeSession:
        return NodeSession(node, spec.ssh_for(node), secrets=Secrets(), options=options)
    return Runner(spec, state=state, on_event=out, logs=LogBook(state.logs_dir), session_factory=session)


def _banner(nodes: list[NodeSpec], victim: str | None) -> None:
    print(f"-- demo: {len(nodes)} SIMULATED node(s) on loopback (nothing is installed anywhere):")
    for node in nodes:
        print(f"   {node.name:<10} {node.role:<14} ssh {node.address}:{node.ssh.port if node.ssh else 22}")
    if victim:
        print(f"-- demo: {FAILING_STEP} will fail once on {victim}, to show failure isolation and retry")
