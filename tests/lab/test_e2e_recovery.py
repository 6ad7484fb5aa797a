"""End to end on the lab, when things go wrong: a step fails on one worker (the others carry on, the
failure shows its diagnostics, `retry --continue` finishes the install), and k8stui is SIGKILLed mid-run
(the same `apply` again resumes and completes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from . import e2e
from .lab import Lab, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
FAULT = "containerd: failed to mount overlay at /var/lib/containerd: k8slab fault injection"
KILL_DEADLINE = 120.0


def test_a_failing_worker_step_then_retry_continue(lab: Any, tmp_path: Path) -> None:
    env: Lab = lab("ubuntu-22.04", "ubuntu-22.04", "ubuntu-22.04", fresh=True)
    broken = env.nodes[2]
    # The lab's containerd model refuses to start while this fault file holds a message.
    env.run(broken, f"mkdir -p /var/lib/lab/faults && echo '{FAULT}' > /var/lib/lab/faults/containerd-start")
    config = e2e.cluster_file(env, tmp_path)
    state_dir = tmp_path / "state"
    run = e2e.apply(config, state_dir)
    assert run.code == 1, run
    rows = e2e.run_state(state_dir)["rows"]
    assert rows["lab3"]["containerd"]["status"] == "failed"
    assert rows["lab3"]["join"]["status"] == "blocked"
    assert rows["lab2"]["join"]["status"] == "ok" and rows["lab1"]["cni"]["status"] == "ok"
    assert rows["lab1"]["smoke"]["status"] == "blocked"
    log = e2e.node_log(state_dir, "lab3")
    assert "--- diagnostics: journalctl -u containerd" in log and FAULT in log, log[-3000:]
    assert f"k8stui retry -f {config} --node lab3 --step containerd --continue" in run.out

    env.run(broken, "rm -f /var/lib/lab/faults/containerd-start")
    retry = e2e.k8stui("retry", "-f", str(config), "--node", "lab3", "--step", "containerd", "--continue",
                       "--yes", "--state-dir", str(state_dir))
    print(f"failed apply: {run.seconds:.1f}s, retry --continue: {retry.seconds:.1f}s")
    assert retry.code == 0, retry
    rows = e2e.run_state(state_dir)["rows"]
    assert rows["lab3"]["join"]["status"] == "ok" and rows["lab1"]["smoke"]["status"] == "ok", retry
    nodes = env.run(env.nodes[0], "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes").stdout
    assert "lab3   Ready" in nodes


def _running_step(state_dir: Path, step: str) -> bool:
    try:
        rows = json.loads(next(state_dir.rglob("state.json")).read_text())["rows"]
    except (StopIteration, json.JSONDecodeError, OSError, KeyError):
        return False
    return any(steps.get(step, {}).get("status") == "running" for steps in rows.values())


def test_sigkill_mid_run_then_apply_resumes(lab: Any, tmp_path: Path) -> None:
    env: Lab = lab("ubuntu-22.04", "ubuntu-22.04", fresh=True)
    config = e2e.cluster_file(env, tmp_path)
    state_dir = tmp_path / "state"
    argv = [sys.executable, "-m", "k8stui", "apply", "-f", str(config), "--yes",
            "--state-dir", str(state_dir)]
    with open(tmp_path / "killed.out", "w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + KILL_DEADLINE
            while not _running_step(state_dir, "containerd") and time.monotonic() < deadline:
                assert proc.poll() is None, (tmp_path / "killed.out").read_text()
                time.sleep(0.1)
            assert _running_step(state_dir, "containerd"), "the run never reached the containerd step"
        finally:
            os.kill(proc.pid, signal.SIGKILL)  # the k8stui process this test started
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    rows = e2e.run_state(state_dir)["rows"]
    cut = [node for node, steps in rows.items() if steps.get("containerd", {}).get("status") == "running"]
    assert cut and rows[cut[0]]["kube-packages"]["status"] == "ok"
    assert "init" not in rows.get("lab1", {}) or rows["lab1"]["init"]["status"] != "ok"

    again = e2e.apply(config, state_dir)
    print(f"apply after SIGKILL: {again.seconds:.1f}s")
    assert again.code == 0, again
    assert "smoke test: passed" in again.out and "nodes: lab1 Ready, lab2 Ready" in again.out, again
    rows = e2e.run_state(state_dir)["rows"]
    assert rows[cut[0]]["kube-packages"]["status"] == "skipped"  # done before the kill: not redone
