"""`k8stui retry -f FILE --node N --step S [--continue]`: re-run one step on one node (run mode).

With `--continue`, also what follows it on that node and the steps it blocked on other nodes.
Outputs (join command, token) and the other nodes' facts come from the run state.
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
from k8stui.recipes.catalog import BY_ID


def run(args: argparse.Namespace) -> int:
    return guarded(lambda: _retry(args))


def _retry(args: argparse.Namespace) -> int:
    spec = load_spec(args.file)
    if args.node not in {n.name for n in spec.nodes}:
        raise CommandError(f"--node: no node {args.node!r} in {args.file}")
    if args.step not in BY_ID:
        raise CommandError(f"--step: no step {args.step!r} (see `k8stui plan -f {args.file}`)")
    caution = "" if BY_ID[args.step].retry_safe else \
        f" ({args.step} is not retry-safe: a half-done run may need `kubeadm reset` on the node first)"
    then = " and continue with what depended on it" if args.cont else ""
    confirm(f"Re-run {args.step} on {args.node}{then}?{caution}", args.yes)
    state = RunState.open(spec.name, state_root(args))
    with locked(state):
        nodes = [n.name for n in spec.nodes] if args.cont else [args.node]
        out = printer()
        runner = make_runner(spec, state, secrets_for(spec, nodes), out)
        try:
            return execute(runner, lambda: runner.retry(args.node, args.step, args.cont), out, args.file)
        except ValueError as err:
            raise CommandError(str(err)) from None
