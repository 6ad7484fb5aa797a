"""`k8stui status -f FILE`: the node x step table from the run state (nothing is contacted)."""

from __future__ import annotations

import argparse

from k8stui.commands._engine import guarded, load_spec, state_root
from k8stui.engine.headless import status_lines
from k8stui.engine.lock import holder
from k8stui.engine.state import RunState
from k8stui.model.facts import Facts
from k8stui.recipes.plan import build_plan


def run(args: argparse.Namespace) -> int:
    return guarded(lambda: _status(args))


def _status(args: argparse.Namespace) -> int:
    spec = load_spec(args.file)
    state = RunState.open(spec.name, state_root(args))
    plan = build_plan(spec, {n: Facts.from_outputs(v) for n, v in state.facts.items()} or None)
    order = {node: [p.step.id for p in steps] for node, steps in plan.nodes.items()}
    pid = holder(state.lock_path)
    if pid:
        print(f"a run is in progress (pid {pid})")
    print("\n".join(status_lines(state, order, pid)))
    return 0
