"""Helpers of the end-to-end lab tests: a cluster file for a lab, and headless `k8stui` runs of it as a
subprocess (the way an operator runs it), with their wall time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from k8stui.model.load import dump_cluster

from .lab import Lab

RUN_TIMEOUT = 420.0  # one apply of a small lab: bounded, generously above the measured ~1-2 min


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float

    def __str__(self) -> str:
        return (f"exit {self.code} after {self.seconds:.1f}s\n--- stdout\n{self.out[-6000:]}\n"
                f"--- stderr\n{self.err[-3000:]}")


def cluster_file(env: Lab, directory: Path, **spec_fields: Any) -> Path:
    path = directory / "cluster.yaml"
    path.write_text(dump_cluster(env.spec(**spec_fields)))
    return path


def k8stui(*args: str, timeout: float = RUN_TIMEOUT) -> Run:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "k8stui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def apply(config: Path, state_dir: Path, *extra: str, timeout: float = RUN_TIMEOUT) -> Run:
    return k8stui("apply", "-f", str(config), "--yes", "--state-dir", str(state_dir), *extra, timeout=timeout)


def run_state(state_dir: Path) -> dict[str, Any]:
    """The run state k8stui keeps for the lab cluster (name `lab`)."""
    files = sorted(state_dir.rglob("state.json"))
    assert files, f"no state.json under {state_dir}"
    return json.loads(files[0].read_text())


def node_log(state_dir: Path, node: str) -> str:
    logs = sorted(state_dir.rglob(f"{node}.log"))
    return logs[0].read_text(errors="replace") if logs else ""
