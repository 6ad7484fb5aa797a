"""`k8stui render -f FILE -o DIR [--os OS]`: every script and config a run would use, without connecting.

Writes DIR/<node>/<NN>-<step>.sh (0755), DIR/kubeadm-config.yaml, DIR/cni.yaml (unless `cni: none`)
and DIR/containerd-config.toml or DIR/daemon.json. Join scripts carry placeholders where init's
outputs (token, CA hash, certificate key) would go, and refuse to run while they do.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from jinja2 import TemplateError

from k8stui.commands.plan import PlanInputError, plan_from_args, print_warnings
from k8stui.recipes import artifacts
from k8stui.recipes.plan import Plan
from k8stui.recipes.step import Kind

EXIT_OK, EXIT_BAD_INPUT = 0, 2
_SCRIPT = re.compile(r"^\d{2}-[a-z0-9-]+\.sh$")


def _write(path: Path, text: str, mode: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


def write_scripts(plan: Plan, out: Path) -> list[Path]:
    """One directory per node; scripts left from an earlier render there are removed first."""
    written: list[Path] = []
    for node in plan.spec.nodes:
        node_dir = out / node.name
        node_dir.mkdir(parents=True, exist_ok=True)
        for stale in node_dir.iterdir():
            if _SCRIPT.match(stale.name):
                stale.unlink()
        for planned in plan.steps(node.name):
            if planned.step.kind is Kind.REMOTE:
                path = node_dir / planned.script
                _write(path, plan.render(planned), 0o755)
                written.append(path)
    return written


def configs(plan: Plan) -> dict[str, str | None]:
    """File name -> content; None means the file must not exist (e.g. cni.yaml with `cni: none`)."""
    spec = plan.spec
    docker = spec.kubernetes.runtime == "docker"
    return {
        "kubeadm-config.yaml": artifacts.kubeadm_init_config(spec) if spec.first_control_plane else None,
        "cni.yaml": artifacts.cni_manifest(spec),
        "containerd-config.toml": None if docker else artifacts.containerd_config(spec),
        "daemon.json": artifacts.docker_daemon_json(spec) if docker else None,
    }


def write_configs(plan: Plan, out: Path) -> list[Path]:
    written: list[Path] = []
    for name, text in configs(plan).items():
        path = out / name
        if text is None:
            path.unlink(missing_ok=True)
            continue
        _write(path, text, 0o644)
        written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    try:
        plan = plan_from_args(args)
        out.mkdir(parents=True, exist_ok=True)
        scripts = write_scripts(plan, out)
        files = write_configs(plan, out)
    except PlanInputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ValueError, TemplateError) as exc:
        print(f"error: cannot render: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print_warnings(plan.spec)
    print(f"wrote {len(scripts)} scripts for {len(plan.spec.nodes)} nodes and "
          f"{', '.join(p.name for p in files)} to {out}")
    return EXIT_OK
