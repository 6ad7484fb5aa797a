"""`python -m tests.lab up --nodes centos-7,ubuntu-22.04` / `python -m tests.lab down`."""

from __future__ import annotations

import argparse
import sys

from .cleanup import destroy
from .distros import DISTROS
from .lab import Lab, missing_requirements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a lab (it keeps running until `down`)")
    up.add_argument("--nodes", default="ubuntu-22.04", help=f"comma-separated distros: {', '.join(DISTROS)}")
    up.add_argument("--duplicate-uuid", action="store_true", help="give every node the same product_uuid")
    down = sub.add_parser("down", help="stop the labs `up` started (and crashed ones), removing all traces")
    down.add_argument("--all", action="store_true", help="also stop labs that running test sessions own")
    args = parser.parse_args(argv)
    problem = missing_requirements()
    if problem:
        print(f"lab: {problem}", file=sys.stderr)
        return 2
    if args.command == "down":
        slots = destroy(everything=args.all)
        print(f"lab: removed {len(slots)} lab(s)")
        return 0
    lab = Lab(args.nodes.split(","), duplicate_uuid=args.duplicate_uuid, persistent=True).up()
    ssh = " ".join(lab.ssh_argv(lab.nodes[0])[:-1])
    print(f"lab: slot {lab.slot}, {len(lab.nodes)} node(s); key {lab.key}, known hosts {lab.known_hosts}")
    for node in lab.nodes:
        print(f"  {node.name:<6} {node.distro.key:<13} {node.ip:<15} {ssh} root@{node.ip}   (also ops, ops2)")
    print("stop with: python -m tests.lab down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
