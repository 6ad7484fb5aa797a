"""`k8stui validate -f FILE`: exit 0 and a one-line summary, or exit 2 and one line per problem."""

from __future__ import annotations

import argparse
import sys

from k8stui.model.cluster import ClusterSpec
from k8stui.model.load import ClusterFileError, read_text, validate_text
from k8stui.model.locate import locate, with_line
from k8stui.model.problems import Problem
from k8stui.model.versions import Version

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(spec: ClusterSpec) -> str:
    """`cluster "lab", 3 nodes (1 control plane, 2 workers), Kubernetes 1.34.6, containerd, ...`"""
    k8s, net = spec.kubernetes, spec.network
    roles = f"{_count(len(spec.control_planes), 'control plane')}, {_count(len(spec.workers), 'worker')}"
    cni = "no CNI" if net.cni == "none" else net.cni
    custom = "://" in k8s.package_mirror
    mirror = f"mirror {k8s.package_mirror}" if custom else f"{k8s.package_mirror} mirror"
    version = Version.parse(k8s.version)
    return (f'cluster "{spec.name}", {_count(len(spec.nodes), "node")} ({roles}), '
            f"Kubernetes {version}, {k8s.runtime}, {cni}, {mirror}")


def _report(prefix: str, found: list[Problem], lines: dict[str, int]) -> None:
    for item in found:
        print(f"{prefix}: {with_line(item, lines)}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    try:
        text = read_text(args.file)
    except ClusterFileError as exc:
        spec, problems, warnings, lines = None, exc.problems, [], {}
    else:
        spec, problems, warnings = validate_text(text, args.file)
        lines = locate(text) if problems or warnings else {}
    _report("warning", warnings, lines)
    if problems or spec is None:
        _report("error", problems, lines)
        print(f"{args.file}: {_count(len(problems), 'problem')}; nothing was contacted", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"ok: {summary(spec)}")
    return EXIT_OK
