"""The facts step for real: its rendered script runs with bash on this machine (it is read-only)
and what it prints must parse with Facts.from_outputs into plausible values."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import time
from pathlib import Path

import pytest

from k8stui.model.cluster import ClusterSpec
from k8stui.model.facts import Facts
from k8stui.recipes.plan import build_plan
from k8stui.recipes.protocol import is_marker, parse_output

KEYS = {"hostname", "os_id", "os_version", "kernel", "arch", "cpus", "memory_mb", "cgroup_version",
        "product_uuid", "nics", "swap_kb", "firewall", "selinux", "runtime", "kube_packages", "epoch",
        "modules"}
Run = tuple[dict[str, str], subprocess.CompletedProcess[str]]


def facts_script(os_name: str = "debian-12") -> str:
    node = {"name": "cp1", "address": "10.0.0.11", "role": "control-plane"}
    spec = ClusterSpec.model_validate({"nodes": [node]})
    plan = build_plan(spec, os_override=os_name)
    planned = plan.find("cp1", "facts")
    assert planned is not None
    return plan.render(planned)


def run(tmp_path: Path, text: str, mode: str = "run") -> Run:
    path = tmp_path / "00-facts.sh"
    path.write_text(text)
    result = subprocess.run(["bash", str(path), mode], capture_output=True, text=True, timeout=60,
                            check=False)
    outputs = dict(kv for line in result.stdout.splitlines() if (kv := parse_output(line)))
    return outputs, result


@pytest.fixture(scope="module")
def here(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run(tmp_path_factory.mktemp("facts"), facts_script())


def _os_release() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    return {k: v.strip("\"'") for k, v in pairs}


def test_prints_exactly_the_keys_facts_reads(here: Run) -> None:
    outputs, result = here
    assert result.returncode == 0, result.stderr
    assert set(outputs) == KEYS
    # Only marker lines: nothing else leaks into the step log, and no value spans two lines.
    assert all(is_marker(line) for line in result.stdout.splitlines())
    assert "::k8stui-status::" not in result.stdout  # read-only: never "changed" nor "skipped"


def test_values_describe_this_machine(here: Run) -> None:
    facts = Facts.from_outputs(here[0])
    release = _os_release()
    assert facts.hostname == socket.gethostname()
    assert (facts.os.id, facts.os.version) == (release.get("ID"), release.get("VERSION_ID", ""))
    assert facts.kernel == platform.release() and facts.arch == platform.machine()
    assert facts.cpus == len(os.sched_getaffinity(0))
    assert 64 < facts.memory_mb < 1 << 24
    assert facts.cgroup_version == (2 if Path("/sys/fs/cgroup/cgroup.controllers").exists() else 1)
    assert abs(facts.epoch - time.time()) < 60
    assert facts.firewall in ("firewalld", "ufw", "none")
    assert facts.selinux in ("enforcing", "permissive", "disabled", "absent")
    assert facts.runtime == "none" or facts.runtime.split()[0] in ("containerd", "docker")
    assert set(facts.modules) <= {"overlay", "br_netfilter", "ip_vs"}
    assert all(name in ("kubeadm", "kubelet", "kubectl") for name in facts.kube_packages)


def test_nics_match_the_kernel(here: Run) -> None:
    facts = Facts.from_outputs(here[0])
    expected = sorted(p.name for p in Path("/sys/class/net").iterdir() if p.name != "lo")
    assert sorted(n.name for n in facts.nics) == expected
    for nic in facts.nics:
        assert nic.mac == (Path("/sys/class/net") / nic.name / "address").read_text().strip()
        assert all("/" in address for address in nic.addresses)
    assert "127.0.0.1" not in facts.ips


def test_swap_total_matches_proc_swaps(here: Run) -> None:
    lines = Path("/proc/swaps").read_text().splitlines()[1:]
    assert Facts.from_outputs(here[0]).swap_kb == sum(int(line.split()[2]) for line in lines)


def test_never_fails_when_optional_tools_are_missing(tmp_path: Path) -> None:
    """Pretend nothing but bash and coreutils exists: every key is still printed, with fallbacks."""
    text = facts_script("centos-7").replace('main "$@"', 'have() { return 1; }\nmain "$@"')
    outputs, result = run(tmp_path, text)
    assert result.returncode == 0, result.stderr
    assert set(outputs) == KEYS
    assert outputs["runtime"] == "none" and outputs["kube_packages"] == "" and outputs["firewall"] == "none"
    assert outputs["nics"] and all(item.count("|") == 2 for item in outputs["nics"].split(";"))
    assert int(outputs["cpus"]) >= 1


def test_publish_alone_prints_the_facts_again(tmp_path: Path) -> None:
    outputs, result = run(tmp_path, facts_script("ubuntu-24.04"), "publish")
    assert result.returncode == 0 and set(outputs) == KEYS


def test_parser_reads_the_documented_formats() -> None:
    facts = Facts.from_outputs({
        "os_id": "rocky", "os_version": "9.4", "cpus": "4", "memory_mb": "7821", "cgroup_version": "2",
        "nics": "eth0|52:54:00:aa:bb:01|10.0.0.11/24,fd00::11/64;eth1|52:54:00:aa:bb:02|",
        "kube_packages": "kubeadm=1.34.6,kubelet=1.34.6", "runtime": "containerd 1.7.24",
        "modules": "overlay,br_netfilter", "epoch": "1795790644.662683821",
    })
    assert facts.os.pkg == "dnf" and facts.nic_for("10.0.0.11").name == "eth0"
    assert facts.ips == ("10.0.0.11", "fd00::11") and facts.macs[1] == "52:54:00:aa:bb:02"
    assert facts.kube_packages == {"kubeadm": "1.34.6", "kubelet": "1.34.6"}
    assert facts.modules == ("overlay", "br_netfilter") and facts.cgroup_version == 2
