"""The host-preparation steps on lab nodes: facts parse, every step converges and stays converged.

Each step script is rendered for the node's distro and run the way the engine runs it (a file in
/var/lib/k8stui/steps, `bash <file> run`): the first run must succeed (changed or skipped), a second
run must find nothing to do, and `check` must then agree.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from k8stui.model.facts import Facts
from k8stui.recipes.plan import Plan, build_plan
from k8stui.recipes.protocol import STEPS_DIR, parse_output

from .lab import Lab, LabNode, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
# One of each package manager and init flavour; the other distros differ only in what renders (unit tests).
DISTROS = ("centos-7", "rocky-9", "ubuntu-22.04", "debian-12")
HOSTPREP = ("hostname", "timesync", "firewall", "selinux", "swap", "kernel", "ipvs", "endpoint-probe")


def run_step(lab: Lab, node: LabNode, plan: Plan, step_id: str, mode: str = "run",
             name: str = "") -> tuple[int, str, str]:
    """Run the step planned for `name` (default: the lab node's own name) on the lab node."""
    planned = plan.find(name or node.name, step_id)
    assert planned is not None, f"{step_id} is not planned on {name or node.name}"
    encoded = base64.b64encode(plan.render(planned).encode()).decode()
    path = f"{STEPS_DIR}/{planned.script}"
    command = f"mkdir -p -m 0700 {STEPS_DIR} && echo {encoded} | base64 -d > {path} && bash {path} {mode}"
    result = lab.run(node, command, timeout=120)
    return result.returncode, result.stdout, result.stderr


def outputs(stdout: str) -> dict[str, str]:
    return dict(kv for line in stdout.splitlines() if (kv := parse_output(line)))


def spec_for(lab: Lab, **host_prep: Any) -> Any:
    return lab.spec(
        control_planes=2, with_os=True,
        kubernetes={"controlPlaneEndpoint": "k8s-api.lab:6443"},
        network={"proxyMode": "ipvs", "cni": "flannel"},
        hostPrep={"timeServers": ["ntp.aliyun.com", "ntp.ntsc.ac.cn"], "disableIPv6": True, **host_prep},
    )


@pytest.mark.parametrize("distro", DISTROS)
def test_facts_then_every_step_converges(lab: Any, distro: str) -> None:
    env: Lab = lab(*DISTROS)
    node = env.nodes[DISTROS.index(distro)]
    plan = build_plan(spec_for(env))
    code, stdout, stderr = run_step(env, node, plan, "facts")
    facts = Facts.from_outputs(outputs(stdout))
    assert code == 0, stderr
    assert f"{facts.os.id}-{facts.os.version}".startswith(distro) and facts.hostname == node.hostname
    assert node.ip in facts.ips and facts.swap_kb > 0 and facts.cpus > 0
    for step_id in HOSTPREP:
        if plan.find(node.name, step_id) is None:
            continue
        code, stdout, stderr = run_step(env, node, plan, step_id)
        assert code == 0, f"{step_id} on {distro}:\n{stdout}\n{stderr}"
        code, stdout, stderr = run_step(env, node, plan, step_id)
        assert code == 0 and ("::k8stui-status:: skipped" in stdout or step_id == "endpoint-probe"), \
            f"{step_id} on {distro} is not idempotent:\n{stdout}\n{stderr}"
    code, stdout, _ = run_step(env, node, plan, "facts")
    assert code == 0 and Facts.from_outputs(outputs(stdout)).swap_kb == 0


def test_endpoint_name_maps_to_each_control_plane_only(lab: Any) -> None:
    env: Lab = lab(*DISTROS)
    plan = build_plan(spec_for(env))
    for index, node in enumerate(env.nodes):
        run_step(env, node, plan, "hostname")
        # Bounded: workers fall through to DNS, which the lab black-holes.
        resolved = env.run(node, "timeout 2 getent ahosts k8s-api.lab | head -n 1", timeout=30).stdout.split()
        assert resolved[:1] == ([node.ip] if index < 2 else []), node.name
    code, stdout, _ = run_step(env, env.nodes[0], plan, "endpoint-probe")
    assert code == 0 and outputs(stdout)["endpoint_probe"] == "self"


def test_open_ports_in_firewalld(lab: Any) -> None:
    env: Lab = lab("rocky-9", "centos-7")
    plan = build_plan(env.spec(with_os=True, hostPrep={"firewall": "open-ports"}))
    for node, expected in zip(env.nodes, ("6443/tcp", "30000-32767/udp"), strict=True):
        code, stdout, stderr = run_step(env, node, plan, "firewall")
        assert code == 0 and "::k8stui-status:: changed" in stdout, stderr
        listed = env.run(node, "firewall-cmd --permanent --list-ports").stdout.split()
        assert expected in listed and "8472/udp" in listed
        assert run_step(env, node, plan, "firewall", "check")[0] == 0


def test_endpoint_probe_with_nothing_listening_is_refused(lab: Any) -> None:
    env: Lab = lab("rocky-9", "centos-7")
    endpoint = f"{env.nodes[1].ip}:6443"  # the other node: reachable, nothing listens there yet
    plan = build_plan(env.spec(with_os=True, kubernetes={"controlPlaneEndpoint": endpoint},
                               hostPrep={"firewall": "leave"}))
    code, stdout, stderr = run_step(env, env.nodes[0], plan, "endpoint-probe")
    assert code == 0 and outputs(stdout)["endpoint_probe"] == "refused", stderr


def test_open_ports_in_ufw(lab: Any) -> None:
    env: Lab = lab("ubuntu-22.04", "ubuntu-24.04")  # Debian does not ship ufw
    plan = build_plan(env.spec(with_os=True, hostPrep={"firewall": "open-ports"}))
    for node, expected in zip(env.nodes, ("6443/tcp", "30000:32767/udp"), strict=True):
        assert env.run(node, "ufw --force enable").returncode == 0
        assert run_step(env, node, plan, "firewall", "check")[0] == 1
        code, stdout, stderr = run_step(env, node, plan, "firewall")
        assert code == 0 and "::k8stui-status:: changed" in stdout, stderr
        rules = env.run(node, "ufw status").stdout
        assert expected in rules and "8472/udp" in rules


def test_hostname_is_set_to_the_node_name(lab: Any) -> None:
    env: Lab = lab("rocky-9", "ubuntu-22.04")
    names = ("cp-a", "worker-b")
    spec = env.spec(with_os=True)
    for node, name in zip(spec.nodes, names, strict=True):
        node.name = name
    plan = build_plan(spec)
    for lab_node, name in zip(env.nodes, names, strict=True):
        code, stdout, stderr = run_step(env, lab_node, plan, "hostname", name=name)
        assert code == 0 and "::k8stui-status:: changed" in stdout, stderr
        seen = env.run(lab_node, "uname -n; cat /etc/hostname; getent ahosts worker-b | head -n 1").stdout
        assert seen.split()[:3] == [name, name, env.nodes[1].ip]
        assert run_step(env, lab_node, plan, "hostname", "check", name=name)[0] == 0
