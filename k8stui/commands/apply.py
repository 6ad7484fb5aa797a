"""`k8stui apply -f FILE [--yes] [--dry-run] [--nodes a,b] [--steps id,...] [--ack CODE,...]`: install.

Re-running converges: every step's check skips what is already in place, so after a failure or a
kill -9 the same command resumes. Exit 0 success, 1 failure, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse

from k8stui.commands._engine import (
    CommandError,
    confirm,
    execute,
    guarded,
    load_spec,
    locked,
    make_runner,
    printer,
    secrets_for,
    state_root,
)
from k8stui.engine.state import RunState
from k8stui.recipes import portmatrix


def run(args: argparse.Namespace) -> int:
    return guarded(lambda: _apply(args))


def _apply(args: argparse.Namespace) -> int:
    spec = load_spec(args.file)
    nodes = args.nodes or [n.name for n in spec.nodes]
    unknown = sorted(set(nodes) - {n.name for n in spec.nodes})
    if unknown:
        raise CommandError(f"--nodes: no such node(s) in {args.file}: {', '.join(unknown)}")
    if not args.dry_run:
        confirm(f"Install Kubernetes {spec.kubernetes.version} on {len(nodes)} node(s) of "
                f"cluster {spec.name!r} ({', '.join(nodes)})?", args.yes)
    state = RunState.open(spec.name, state_root(args))
    with locked(state):
        secrets = secrets_for(spec, nodes)
        out = printer()
        runner = make_runner(spec, state, secrets, out, concurrency=args.concurrency, dry_run=args.dry_run,
                             only_nodes=args.nodes, only_steps=args.steps,
                             acknowledged_warnings=getattr(args, "ack", None) or ())
        try:
            code = execute(runner, runner.run, out, args.file)
        except ValueError as err:
            raise CommandError(str(err)) from None
    # Blocked ports between the nodes, with the rule to add: the one table worth reading after a run.
    for line in portmatrix.report(spec, runner.outputs):
        print(line)
    return code
