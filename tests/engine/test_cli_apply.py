"""`k8stui apply|status|retry|join-command|demo --headless` as real processes against simulated nodes.

The simulated nodes live in another process (sim_host.py), so a test can SIGKILL or SIGINT the
k8stui process mid-run while the nodes keep their state, like real machines would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from k8stui.engine.lock import RunLock

REPO = Path(__file__).resolve().parents[2]
HOST = Path(__file__).with_name("sim_host.py")
MINIMAL = """\
apiVersion: k8stui/v1
kind: Cluster
name: lab
nodes:
  - {name: cp1, address: 192.0.2.10, role: control-plane}
"""


def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK", "XDG_STATE_HOME")}
    return {**clean, "PYTHONPATH": str(REPO), "HOME": str(home)}


@contextmanager
def sim_host(tmp_path: Path, *args: str) -> Iterator[Path]:
    """A simulated cluster served by another process; yields its cluster file."""
    work = tmp_path / "host"
    work.mkdir()
    proc = subprocess.Popen([sys.executable, str(HOST), str(work), *args], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, env=env(tmp_path))
    try:
        deadline = time.monotonic() + 30
        while not (work / "cluster.yaml").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the sim host did not start"
            time.sleep(0.05)
        yield work / "cluster.yaml"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def k8stui(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "k8stui", *args], capture_output=True, text=True,
                          env=env(tmp_path), timeout=timeout, stdin=subprocess.DEVNULL, cwd=tmp_path)


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "k8stui", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(tmp_path), stdin=subprocess.DEVNULL,
                            cwd=tmp_path)


def rows(state: Path) -> dict[str, dict[str, dict]]:
    return json.loads((state / "sim" / "state.json").read_text())["rows"]


def wait_for_rows(state: Path, node: str, done: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            finished = [r for r in rows(state).get(node, {}).values() if r["status"] == "ok"]
        except (FileNotFoundError, json.JSONDecodeError):
            finished = []
        if len(finished) >= done:
            return
        time.sleep(0.02)
    raise AssertionError(f"{node} never finished {done} steps")


def test_apply_installs_then_status_and_join_command(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sim_host(tmp_path, "--workers", "2") as cluster:
        done = k8stui(tmp_path, "apply", "-f", str(cluster), "--yes", "--state-dir", str(state))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "kubeadm join 10.77.0.11:6443" in done.stdout
        assert f"export KUBECONFIG={state / 'sim' / 'kubeconfig'}" in done.stdout
        assert "nodes: cp-1 Ready, node-1 Ready, node-2 Ready" in done.stdout
        assert "cp-1           init                 ok" in done.stdout  # one line per transition
        status = k8stui(tmp_path, "status", "-f", str(cluster), "--state-dir", str(state))
        assert status.returncode == 0 and "node-2         join                 ok" in status.stdout
        join = k8stui(tmp_path, "join-command", "-f", str(cluster))
        assert join.returncode == 0 and join.stdout.startswith("kubeadm join "), join.stderr
    assert oct((state / "sim").stat().st_mode & 0o777) == "0o700"
    assert oct((state / "sim" / "state.json").stat().st_mode & 0o777) == "0o600"
    token = json.loads((state / "sim" / "state.json").read_text())["outputs"]["token"]
    assert token not in (state / "sim" / "logs" / "cp-1.log").read_text()


def test_failure_exits_1_and_retry_continue_recovers(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sim_host(tmp_path, "--workers", "2", "--fail", "node-2:containerd") as cluster:
        failed = k8stui(tmp_path, "apply", "-f", str(cluster), "--yes", "--state-dir", str(state))
        assert failed.returncode == 1
        assert "failed: node-2 containerd: exited with code 1" in failed.stdout
        assert f"log: {state / 'sim' / 'logs' / 'node-2.log'}" in failed.stdout
        assert rows(state)["node-1"]["join"]["status"] == "ok"
        assert rows(state)["cp-1"]["smoke"]["status"] == "blocked"
        again = k8stui(tmp_path, "retry", "-f", str(cluster), "--node", "node-2", "--step", "containerd",
                       "--continue", "--yes", "--state-dir", str(state))
        assert again.returncode == 0, again.stdout + again.stderr
        assert rows(state)["cp-1"]["smoke"]["status"] == "ok"


def test_sigkill_mid_run_then_apply_resumes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sim_host(tmp_path, "--workers", "1", "--speed", "5") as cluster:
        proc = start(tmp_path, "apply", "-f", str(cluster), "--yes", "--state-dir", str(state))
        try:
            wait_for_rows(state, "cp-1", 4, proc)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=10)
        before = rows(state)
        assert before["cp-1"]["facts"]["status"] == "ok" and "smoke" not in before["cp-1"]
        status = k8stui(tmp_path, "status", "-f", str(cluster), "--state-dir", str(state))
        assert "a run is in progress" not in status.stdout
        resumed = k8stui(tmp_path, "apply", "-f", str(cluster), "--yes", "--state-dir", str(state))
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = rows(state)
    assert after["cp-1"]["smoke"]["status"] == "ok"
    assert after["cp-1"]["hostname"]["status"] == "skipped"  # done before the kill: its check converges


def test_sigint_cancels_running_steps_and_exits_130(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sim_host(tmp_path, "--workers", "1", "--speed", "2") as cluster:
        proc = start(tmp_path, "apply", "-f", str(cluster), "--yes", "--state-dir", str(state))
        try:
            wait_for_rows(state, "cp-1", 3, proc)
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=5)
        assert proc.returncode == 130, out
        assert "cancelled" in out
    statuses = {r["status"] for r in rows(state)["cp-1"].values()}
    assert "cancelled" in statuses and "running" not in statuses


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sim_host(tmp_path, "--workers", "1") as cluster:
        dry = k8stui(tmp_path, "apply", "-f", str(cluster), "--dry-run", "--state-dir", str(state))
        assert dry.returncode == 0, dry.stdout + dry.stderr
        assert "cp-1           init                 ok" in dry.stdout and "would change" in dry.stdout
        again = k8stui(tmp_path, "apply", "-f", str(cluster), "--dry-run", "--state-dir", str(state))
        assert "node-1         swap                 ok" in again.stdout  # still not applied
        assert "kubeadm join" not in again.stdout
    assert rows(state) == {}  # `status` and `retry` must not believe a dry run did anything


def test_refusals(tmp_path: Path) -> None:
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(MINIMAL)
    state = tmp_path / "state"
    no_tty = k8stui(tmp_path, "apply", "-f", str(cluster), "--state-dir", str(state))
    assert no_tty.returncode == 2 and "--yes" in no_tty.stderr
    (state / "lab").mkdir(parents=True)
    with RunLock(state / "lab" / "lock"):
        held = k8stui(tmp_path, "apply", "-f", str(cluster), "--yes", "--state-dir", str(state))
    assert held.returncode == 1 and f"process {os.getpid()}" in held.stderr
    bad = k8stui(tmp_path, "apply", "-f", str(cluster), "--yes", "--nodes", "nope", "--state-dir", str(state))
    assert bad.returncode == 2 and "nope" in bad.stderr
    missing = k8stui(tmp_path, "status", "-f", str(tmp_path / "absent.yaml"))
    assert missing.returncode == 2


@pytest.mark.parametrize("failure", [True, False])
def test_demo_headless(tmp_path: Path, failure: bool) -> None:
    args = ["demo", "--headless", "--nodes", "3", "--speed", "20"] + ([] if failure else ["--no-failure"])
    demo = k8stui(tmp_path, *args)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "SIMULATED" in demo.stdout and "smoke test: passed" in demo.stdout
    recovery = "recovering with `k8stui retry --node node-2 --step containerd --continue`"
    assert (recovery in demo.stdout) == failure
