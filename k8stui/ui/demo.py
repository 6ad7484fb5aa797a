"""`k8stui demo` in the TUI: the whole wizard and install against SIMULATED nodes, in a temporary directory.

SimCluster (asyncssh servers on loopback) runs in the same event loop as the app, so the app is started
with `run_async` inside `asyncio.run`. The cluster file and the run state live in the temporary directory,
which goes away on exit with the simulated nodes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from textual.content import Content

from k8stui.engine.ssh import ConnectOptions
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import Facts
from k8stui.sim.cluster import DEMO_VERSION, Fault, SimCluster
from k8stui.ui.app import K8sTuiApp
from k8stui.ui.files import save_cluster
from k8stui.ui.screens.board import install_screen
from k8stui.ui.screens.inventory import HostKeyPrompt

FAILING_STEP = "containerd"  # as the headless demo: a worker's runtime install fails once
# The sim wrote its own key and known_hosts: ~/.ssh/config and the agent stay out of it.
SIM_OPTIONS = ConnectOptions(ssh_config=False, agent=False)
DEMO_BADGE = " DEMO: SIMULATED nodes, nothing is installed "


class DemoApp(K8sTuiApp):
    """The app with a badge in every screen's header: a newcomer must never think nodes were touched."""

    def format_title(self, title: str, sub_title: str) -> Content:
        badge = (DEMO_BADGE, "bold black on $warning")
        return Content.assemble(badge, " ", super().format_title(title, sub_title))


def run(args: argparse.Namespace) -> int:
    if args.nodes < 1:
        print("k8stui demo: --nodes must be at least 1", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="k8stui-demo-") as tmp:
        asyncio.run(_run(Path(tmp), args))
    return 0


async def _run(workdir: Path, args: argparse.Namespace) -> None:
    async with await start_sim(workdir, args.nodes, not args.no_failure, args.speed) as sim:
        await demo_app(sim, workdir).run_async()


def victim_of(nodes: int) -> str | None:
    """The worker whose containerd step fails once (None without workers)."""
    return f"node-{nodes - 1}" if nodes > 1 else None


async def start_sim(workdir: Path, nodes: int, failure: bool = True, speed: float = 1.0) -> SimCluster:
    victim = victim_of(nodes) if failure else None
    faults = {(victim, FAILING_STEP): Fault("fail", times=1)} if victim else {}
    return await SimCluster.start(workdir / "sim", workers=nodes - 1, speed=speed, faults=faults,
                                  version=DEMO_VERSION)


async def sim_probe(spec: ClusterSpec, node: NodeSpec, prompt: HostKeyPrompt) -> Facts:
    """Inventory's connection test, with the sim's connect options."""
    from k8stui.ui.facts_probe import gather_facts

    return await gather_facts(spec, node, prompt, options=SIM_OPTIONS)


def demo_app(sim: SimCluster, workdir: Path) -> K8sTuiApp:
    """The app on the Inventory step, pre-filled with the sim's nodes, state kept in `workdir`."""
    path = workdir / "cluster.yaml"
    save_cluster(sim.spec, path)
    state = workdir / "state"
    return DemoApp(sim.spec, path, state_dir=state, probe=sim_probe,
                   install_screen=install_screen(state, SIM_OPTIONS))
