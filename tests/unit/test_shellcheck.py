"""The shellcheck gate: every step script of the catalog, rendered for every OS x a few specs.

One shellcheck run covers all rendered scripts (deduplicated); each step id is then its own test,
so a step whose template does not exist yet is skipped by name and the gate grows as they land.
Errors fail every step; the host-preparation steps must also be free of warnings.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from k8stui.model.cluster import ClusterSpec
from k8stui.recipes import render as render_module
from k8stui.recipes.catalog import CATALOG
from k8stui.recipes.plan import build_plan
from k8stui.recipes.step import Kind

OSES = ("centos-7", "rocky-9", "ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04", "debian-11", "debian-12")
HOSTPREP = {"facts", "hostname", "timesync", "firewall", "selinux", "swap", "kernel", "ipvs",
            "endpoint-probe", "ports-listen", "ports-probe", "ports-close"}
TEMPLATES = Path(render_module.__file__).resolve().parent.parent / "templates"
SHELLCHECK = shutil.which("shellcheck") or next(
    (p for p in ("/usr/bin/shellcheck",) if Path(p).exists()), None)


def _nodes(planes: int, workers: int) -> list[dict[str, str]]:
    cps = [{"name": f"cp{i}", "address": f"10.0.0.{10 + i}", "role": "control-plane"}
           for i in range(1, planes + 1)]
    return cps + [{"name": f"w{i}", "address": f"10.0.0.{20 + i}", "role": "worker"}
                  for i in range(1, workers + 1)]


SPECS: dict[str, dict[str, object]] = {
    "containerd-1.34-flannel": {
        "kubernetes": {"version": "1.34.6", "runtime": "containerd", "packageMirror": "official"},
        "network": {"cni": "flannel", "proxyMode": "iptables"},
        "nodes": _nodes(1, 1),
    },
    "docker-1.23-aliyun-legacy-ipvs": {
        "kubernetes": {"version": "1.23.6", "runtime": "docker", "packageMirror": "aliyun-legacy",
                       "imageRepository": "registry.aliyuncs.com/google_containers", "tokenTTL": "0"},
        "network": {"cni": "flannel", "proxyMode": "ipvs", "interface": "eth1"},
        "hostPrep": {"timeServers": ["ntp1.aliyun.com"]},
        "nodes": _nodes(1, 2),
    },
    "containerd-1.37-calico-ha": {
        "kubernetes": {"version": "1.37.1", "packageMirror": "aliyun",
                       "controlPlaneEndpoint": "k8s-api.internal:6443", "untaintControlPlane": True,
                       "imageRepository": "registry.aliyuncs.com/google_containers"},
        "network": {"cni": "calico", "proxyMode": "nftables", "podSubnet": "192.168.0.0/16"},
        "hostPrep": {"firewall": "open-ports", "disableIPv6": True,
                     "timeServers": ["ntp.aliyun.com", "ntp.ntsc.ac.cn"]},
        "nodes": _nodes(3, 1),
    },
}


@dataclass
class Gate:
    """What one rendering pass and one shellcheck run found, by step id."""

    files: dict[str, list[str]] = field(default_factory=dict)  # step id -> rendered file names
    labels: dict[str, str] = field(default_factory=dict)  # file name -> "spec/os/node"
    render_errors: dict[str, list[str]] = field(default_factory=dict)
    findings: dict[str, list[dict[str, object]]] = field(default_factory=dict)  # file name -> comments


def _template_exists(step_id: str) -> bool:
    step = next(s for s in CATALOG if s.id == step_id)
    return (TEMPLATES / step.template_name).is_file()


def _render_all(out: Path, gate: Gate) -> None:
    for spec_name, data in SPECS.items():
        spec = ClusterSpec.model_validate(data)
        for os_name in OSES:
            plan = build_plan(spec, os_override=os_name)
            for planned in plan:
                if planned.step.kind is Kind.LOCAL or not _template_exists(planned.step.id):
                    continue
                label = f"{spec_name}/{os_name}/{planned.node}"
                try:
                    text = plan.render(planned)
                except Exception as exc:  # a template error is that step's failure, not the gate's
                    gate.render_errors.setdefault(planned.step.id, []).append(f"{label}: {exc!r}")
                    continue
                node = spec.node(planned.node)
                local = (node.name, node.node_ip or "", os_name, spec.kubernetes.version)
                _store(out, gate, planned.step.id, label, text, local)


def _store(out: Path, gate: Gate, step_id: str, label: str, text: str, local: tuple[str, ...] = ()) -> None:
    """Scripts that differ only in the node's name and IP, the OS name and the version string are
    checked once: those are plain words in the same places, so shellcheck says the same of each."""
    key = text
    for word in filter(None, local):
        key = re.sub(rf"(?<![\w.-]){re.escape(word)}(?![\w-]|\.\w)", "\0LOCAL\0", key)
    name = f"{step_id}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.sh"
    if name not in gate.labels:
        (out / name).write_text(text)
        gate.labels[name] = label
        gate.files.setdefault(step_id, []).append(name)


def _shellcheck(out: Path, gate: Gate, jobs: int = 2) -> None:
    """shellcheck takes ~0.3 s a script: a few processes over many files each, in parallel."""
    names = sorted(gate.labels)
    chunks = [names[i::jobs] for i in range(jobs) if names[i::jobs]]
    procs = [subprocess.Popen([SHELLCHECK, "-s", "bash", "-S", "warning", "-f", "json1", *chunk], cwd=out,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for chunk in chunks]
    for proc in procs:
        try:
            stdout, stderr = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("shellcheck did not finish within 600 s")
        if proc.returncode not in (0, 1):
            pytest.fail(f"shellcheck could not run: {stderr.strip()}")
        for comment in json.loads(stdout)["comments"]:
            gate.findings.setdefault(Path(str(comment["file"])).name, []).append(comment)


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    if SHELLCHECK is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    out = tmp_path_factory.mktemp("rendered")
    result = Gate()
    _render_all(out, result)
    _shellcheck(out, result)
    return result


def _problems(gate: Gate, step_id: str) -> list[str]:
    levels = {"error", "warning"} if step_id in HOSTPREP else {"error"}
    problems = []
    for name in gate.files.get(step_id, []):
        for c in gate.findings.get(name, []):
            if c["level"] in levels:
                where = f"{gate.labels[name]} line {c['line']}"
                problems.append(f"{where}: SC{c['code']} ({c['level']}) {c['message']}")
    return problems


REMOTE_IDS = [s.id for s in CATALOG if s.kind is Kind.REMOTE]


@pytest.mark.parametrize("step_id", REMOTE_IDS)
def test_step_scripts_pass_shellcheck(gate: Gate, step_id: str) -> None:
    if not _template_exists(step_id):
        pytest.skip(f"templates/steps/{step_id}.sh.j2 does not exist yet")
    assert not gate.render_errors.get(step_id), "\n".join(gate.render_errors[step_id])
    assert gate.files.get(step_id), f"{step_id} was never planned by any spec x OS of the matrix"
    problems = _problems(gate, step_id)
    assert not problems, "\n".join(problems[:40])


def test_gate_catches_a_broken_script(tmp_path: Path) -> None:
    """The gate is only worth something if shellcheck reports what it should, at the level we filter."""
    if SHELLCHECK is None:
        pytest.skip("shellcheck is not installed")
    gate = Gate()
    _store(tmp_path, gate, "facts", "broken", "#!/usr/bin/env bash\nif [ -f x ]; then\n  echo $((1 +))\n")
    _store(tmp_path, gate, "hostname", "warned", '#!/usr/bin/env bash\nfor f in "a"; do echo "$f"; done\n')
    _shellcheck(tmp_path, gate)
    assert any("(error)" in p for p in _problems(gate, "facts"))
    assert any("SC2043" in p for p in _problems(gate, "hostname"))
