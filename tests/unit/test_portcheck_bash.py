"""The port-check scripts' shell logic for real, in a private network namespace (only its loopback).

The rendered ports-listen / ports-probe / ports-close scripts are sourced without their `main` call,
pointed at 127.0.0.1 and a temp run directory, and run under `unshare --net`, so their listeners can
neither clash with nor be reached from anything on this machine. Needs root (for the namespace).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from k8stui.model.cluster import ClusterSpec
from k8stui.recipes.plan import build_plan

UNSHARE = shutil.which("unshare")
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or UNSHARE is None,
                                reason="needs root and unshare for a private network namespace")
SPEC = ClusterSpec.model_validate({
    "name": "pc",
    "kubernetes": {"version": "1.35.3"},
    "nodes": [{"name": "cp1", "address": "10.0.0.11", "role": "control-plane", "os": "debian-12"},
              {"name": "w1", "address": "10.0.0.21", "role": "worker", "os": "debian-12"}],
})


def script(step: str, node: str, outputs: dict[str, str] | None = None) -> str:
    plan = build_plan(SPEC)
    planned = plan.find(node, step)
    assert planned is not None
    text = plan.render(planned, outputs=outputs or {})
    return text.rpartition('main "$@"')[0]


def run(tmp_path: Path, *parts: str, body: str) -> subprocess.CompletedProcess[str]:
    """Source `parts` (rendered scripts minus main), aim them at loopback and tmp_path, run `body`."""
    local = (f"NODE_IP=127.0.0.1 RUN_DIR={tmp_path} PID_FILE={tmp_path}/ports-listen.pid "
             f"LOG_FILE={tmp_path}/ports-listen.log LISTEN_SECONDS=20\n")
    harness = tmp_path / "harness.sh"
    harness.write_text("\n".join(parts) + "\nip link set lo up\n" + local + body + "\n")
    return subprocess.run([UNSHARE or "unshare", "--net", "bash", str(harness)], capture_output=True,
                          text=True, timeout=90, check=False)


def outputs(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        if line.startswith("::k8stui-output:: "):
            name, _, value = line[len("::k8stui-output:: "):].partition("=")
            found[name] = value
    return found


def probe_list(result: str, keys: list[str]) -> str:
    """PROBES entries for ports-probe, as its template renders them, aimed at 127.0.0.1."""
    return " ".join(f"'w1|127.0.0.1|{k.split('/')[0]}|{k.split('/')[1]}|4000000000'" for k in keys)


def test_python_listener_answers_tcp_and_echoes_udp_then_closes(tmp_path: Path) -> None:
    keys = ["tcp/10250", "udp/8472", "tcp/30000", "udp/30000"]
    body = f"""
apply
PROBES=({probe_list('', keys)} 'w1|127.0.0.1|tcp|10999|4000000000' 'w1|127.0.0.1|tcp|11000|1')
probe_apply
close_apply
"""
    listen = script("ports-listen", "w1")
    probe = script("ports-probe", "cp1").replace("apply() {", "probe_apply() {")
    close = script("ports-close", "w1").replace("apply() {", "close_apply() {")
    done = run(tmp_path, probe, close, listen, body=body)
    assert done.returncode == 0, done.stderr
    found = outputs(done.stdout)
    assert "tcp/10250=listening" in found["ports_listen"] and "udp/8472=listening" in found["ports_listen"]
    assert "tool=python3" in found["ports_listen"]
    probed = dict(token.split("=") for token in found["ports_probe"].split())
    assert probed["w1:tcp/10250"] == "open" and probed["w1:udp/8472"] == "open"
    assert probed["w1:udp/30000"] == "open"
    assert probed["w1:tcp/10999"] == "refused"  # nothing listens there
    assert probed["w1:tcp/11000"] == "expired"  # its listener's lifetime was over
    assert "tcp/10250" in found["ports_alive"] and not (tmp_path / "ports-listen.pid").exists()


def test_a_port_in_use_is_skipped_and_reported(tmp_path: Path) -> None:
    body = """
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", 10250)); s.listen(1); time.sleep(9)' &
sleep 0.5
apply
kill %1
"""
    done = run(tmp_path, script("ports-listen", "w1"), body=body)
    assert done.returncode == 0, done.stderr
    listen = outputs(done.stdout)["ports_listen"]
    assert "tcp/10250=in-use" in listen and "tcp/10256=listening" in listen
    assert "already in use on this node" in done.stderr


@pytest.mark.skipif(shutil.which("nc") is None, reason="no nc on this machine")
def test_without_python_nc_serves_tcp_and_udp_is_not_tested(tmp_path: Path) -> None:
    body = """
python_tool() { return 1; }
apply
for port in 10250 10256; do timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" && echo "open $port"; done
kill -TERM -- "-$(cat "$PID_FILE")"
"""
    done = run(tmp_path, script("ports-listen", "w1"), body=body)
    assert done.returncode == 0, done.stderr
    listen = outputs(done.stdout)["ports_listen"]
    assert "tool=nc" in listen and "tcp/10250=listening" in listen and "udp/8472=no-tool" in listen
    assert "open 10250" in done.stdout and "open 10256" in done.stdout


def test_no_listener_tool_at_all_claims_nothing(tmp_path: Path) -> None:
    body = """
python_tool() { return 1; }
have() { [ "$1" != nc ] && command -v "$1" >/dev/null 2>&1; }
apply
"""
    done = run(tmp_path, script("ports-listen", "w1"), body=body)
    assert done.returncode == 0, done.stderr
    listen = outputs(done.stdout)["ports_listen"]
    assert "tool=none" in listen and "listening" not in listen and "tcp/10250=no-tool" in listen
