"""Host a SimCluster in its own process, for CLI tests that must kill the k8stui process, not the nodes.

Usage: python sim_host.py WORKDIR [--workers N] [--speed X] [--fail NODE:STEP]
Writes WORKDIR/cluster.yaml, then prints `ready` and serves until stdin closes (or MAX_SECONDS).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from k8stui.model.load import dump_cluster
from k8stui.sim.cluster import Fault, SimCluster

MAX_SECONDS = 300.0  # a test that forgets to stop us must not leave a server behind for long


async def _stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def main(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir)
    faults = {}
    for item in args.fail or []:
        node, step = item.split(":")
        faults[(node, step)] = Fault("fail")
    async with await SimCluster.start(workdir / "sim", workers=args.workers, speed=args.speed,
                                      faults=faults) as sim:
        (workdir / "cluster.yaml").write_text(dump_cluster(sim.spec))
        print("ready", flush=True)
        try:
            await asyncio.wait_for(_stdin_closed(), MAX_SECONDS)
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--fail", action="append")
    asyncio.run(main(parser.parse_args()))
