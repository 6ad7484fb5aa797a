"""Host a SimCluster in its own process, for CLI tests that must kill the k8stui process, not the nodes.

Usage: python sim_host.py WORKDIR [--workers N] [--speed X] [--fail NODE:STEP] [--block SRC:DST:tcp/PORT]
Writes WORKDIR/cluster.yaml, then prints `ready` and serves until stdin closes (or MAX_SECONDS).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from pathlib import Path

from k8stui.model.load import dump_cluster
from k8stui.sim.cluster import Fault, SimCluster

MAX_SECONDS = 300.0  # a test that forgets to stop us must not leave a server behind for long


async def _stdin_closed() -> None:
    """Resolves when stdin reaches EOF; a daemon thread, so a timeout never waits for it at exit."""
    loop = asyncio.get_running_loop()
    closed = loop.create_future()

    def read() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(lambda: closed.done() or closed.set_result(None))
    threading.Thread(target=read, daemon=True).start()
    await closed


async def main(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir)
    faults = {}
    for item in args.fail or []:
        node, step = item.split(":")
        faults[(node, step)] = Fault("fail")
    async with await SimCluster.start(workdir / "sim", workers=args.workers, speed=args.speed,
                                      faults=faults) as sim:
        for item in args.block or []:
            source, target, port = item.split(":")
            sim.block_port(source, target, port)
        (workdir / "cluster.yaml").write_text(dump_cluster(sim.spec))
        print("ready", flush=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_stdin_closed(), MAX_SECONDS)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--fail", action="append")
    parser.add_argument("--block", action="append", help="SOURCE:TARGET:tcp/6443, a dropped port")
    asyncio.run(main(parser.parse_args()))
