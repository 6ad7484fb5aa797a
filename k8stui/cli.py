"""`k8stui` command line. Start-up stays light: Textual and asyncssh load only inside commands.

Exit codes: 0 success, 1 install failure, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

EPILOG = """\
exit codes: 0 success, 1 install failure, 2 bad input (invalid file or arguments), 130 interrupted.
Run `k8stui demo` to walk the whole flow against simulated nodes (no servers needed)."""


def _file(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("-f", "--config", dest="file", required=required, metavar="FILE", help="the cluster file")


def _state_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state-dir", metavar="DIR",
                   help="run state root (default: $XDG_STATE_HOME/k8stui or ~/.local/state/k8stui)")


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="k8stui",
        description="Install Kubernetes with kubeadm over SSH: a guided TUI and a headless CLI.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    _file(parser, required=False)
    _state_dir(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", help="write a commented example cluster file")
    p.add_argument("-o", "--output", default="cluster.yaml", help="where to write it ('-' for stdout)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")

    sub.add_parser("schema", help="print the cluster file's JSON Schema")

    p = sub.add_parser("validate", help="check a cluster file; one line per problem")
    _file(p)

    p = sub.add_parser("plan", help="print, per node, the ordered steps that would run")
    _file(p)
    p.add_argument("--os", help="OS for nodes without `os:` (e.g. ubuntu-22.04, rocky-9, centos-7)")

    p = sub.add_parser("render", help="write every script and config that would run, without connecting")
    _file(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    p.add_argument("--os", help="OS for nodes without `os:` (e.g. ubuntu-22.04, rocky-9, centos-7)")

    p = sub.add_parser("apply", help="install the cluster described by the file (headless)")
    _file(p)
    _state_dir(p)
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--dry-run", action="store_true", help="connect, gather facts, run checks; change nothing")
    p.add_argument("--nodes", type=_csv, metavar="A,B", help="only these nodes")
    p.add_argument("--steps", type=_csv, metavar="ID,...", help="only these steps")
    p.add_argument("--concurrency", type=int, default=32, help="nodes in flight at once (default 32)")
    p.add_argument("--ack", type=_csv, metavar="CODE,...", default=[],
                   help="accept these preflight/port-matrix warnings (codes as shown, e.g. port-not-tested); "
                        "recorded in the run state")

    p = sub.add_parser("status", help="the node x step table from the run state")
    _file(p)
    _state_dir(p)

    p = sub.add_parser("retry", help="re-run one step on one node")
    _file(p)
    _state_dir(p)
    p.add_argument("--node", required=True)
    p.add_argument("--step", required=True)
    p.add_argument("--continue", dest="cont", action="store_true", help="then run whatever depended on it")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    p = sub.add_parser("join-command", help="print a fresh join command from the control plane")
    _file(p)
    _state_dir(p)

    p = sub.add_parser("demo", help="the full flow against simulated nodes (no servers needed)")
    p.add_argument("--headless", action="store_true", help="no TUI: run the install and print the summary")
    p.add_argument("--nodes", type=int, default=4, help="simulated nodes (1 control plane + N-1 workers)")
    p.add_argument("--no-failure", action="store_true", help="do not inject the demo's one failure")
    p.add_argument("--speed", type=float, default=1.0, help="simulation speed factor (higher is faster)")
    return parser


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    module = importlib.import_module(f"k8stui.commands.{name.replace('-', '_')}")
    return module.run  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        from k8stui import __version__

        print(f"k8stui {__version__}")
        return EXIT_OK
    try:
        return _command(args.command or "tui")(args)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
