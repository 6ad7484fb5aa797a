"""`k8stui plan -f FILE [--os OS]`: per node, the ordered steps that would run and what they wait for."""

from __future__ import annotations

import argparse
import sys

from k8stui.model import rules
from k8stui.model.cluster import ClusterSpec
from k8stui.model.facts import SUPPORTED_OS, OsInfo
from k8stui.model.load import ClusterFileError, load_cluster
from k8stui.recipes.plan import UNKNOWN_OS, Plan, PlannedStep, build_plan

EXIT_OK, EXIT_BAD_INPUT = 0, 2


class PlanInputError(Exception):
    """The file or the options cannot be planned; the message is the one line to print."""


def load_spec(path: str) -> ClusterSpec:
    try:
        return load_cluster(path)
    except ClusterFileError as exc:
        lines = [f"error: {item}" for item in exc.problems]
        raise PlanInputError("\n".join(lines) or f"error: {path}: {exc}") from None


def _check_os(text: str, where: str) -> None:
    os_info = OsInfo.parse(text)
    if not os_info.version or not os_info.supported:
        raise PlanInputError(f"error: {where}: unsupported OS {text!r}; use one of {', '.join(SUPPORTED_OS)}")


def plan_from_args(args: argparse.Namespace) -> Plan:
    """The offline plan for `-f FILE [--os OS]`; raises PlanInputError with what to print."""
    spec = load_spec(args.file)
    if args.os:
        _check_os(args.os, "--os")
    for node in spec.nodes:
        if node.os:
            _check_os(node.os, f"node {node.name}")
    plan = build_plan(spec, os_override=args.os)
    missing = [name for name, os_info in plan.os.items() if os_info == UNKNOWN_OS]
    if missing:
        raise PlanInputError(f"error: no OS for node(s) {', '.join(missing)}: set `os:` in the file "
                             "or pass --os (e.g. --os ubuntu-22.04)")
    return plan


def print_warnings(spec: ClusterSpec) -> None:
    """What the file allows but an operator should know (ipvs deprecated, standing tokens, ...)."""
    for item in rules.warnings(spec):
        print(f"warning: {item}", file=sys.stderr)


def _waits(planned: PlannedStep) -> str:
    if not planned.waits_for:
        return ""
    return "waits for " + ", ".join(f"{step}@{node}" for node, step in planned.waits_for)


def format_plan(plan: Plan) -> list[str]:
    lines: list[str] = []
    for node in plan.spec.nodes:
        steps = plan.steps(node.name)
        lines.append(f"{node.name} ({node.role}, {plan.os[node.name]}, {node.node_ip or node.address}): "
                     f"{len(steps)} steps")
        width = max((len(p.step.id) for p in steps), default=0)
        for planned in steps:
            row = f"  {planned.number:02d}  {planned.step.id:<{width}}  {planned.step.title}"
            waits = _waits(planned)
            lines.append(f"{row}  [{waits}]" if waits else row)
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        plan = plan_from_args(args)
    except PlanInputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    print_warnings(plan.spec)
    print("\n".join(format_plan(plan)))
    return EXIT_OK
