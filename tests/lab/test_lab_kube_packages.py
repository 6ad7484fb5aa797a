"""kube-repo and kube-packages on lab nodes: every mirror layout, pinned and held, converging on re-runs.

The lab's apt/yum models accept a Kubernetes repository only with a real URL layout and a key fetched
from a real key URL, and serve only that minor's versions: a wrong URL, key or pin fails here.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from k8stui.recipes.plan import build_plan
from k8stui.recipes.protocol import STEPS_DIR

from .lab import Lab, LabNode, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
# distro -> (version, mirror, the version after an upgrade to the next minor or None)
CASES: dict[str, tuple[str, str, str | None]] = {
    "centos-7": ("1.23.6", "aliyun-legacy", None),
    "rocky-9": ("1.34.6", "official", "1.35.3"),
    "ubuntu-22.04": ("1.36", "ustc", None),
    "debian-12": ("1.23.6", "aliyun-legacy", None),
    "ubuntu-24.04": ("1.35", "aliyun", "1.36.2"),
    "rocky-8": ("1.37", "tuna", None),
}
DISTROS = tuple(CASES)


def run_step(env: Lab, node: LabNode, version: str, mirror: str, step_id: str) -> tuple[int, str]:
    runtime = "docker" if version.startswith("1.23") else "containerd"
    kubernetes = {"version": version, "packageMirror": mirror, "runtime": runtime}
    spec = env.spec(with_os=True, kubernetes=kubernetes)
    plan = build_plan(spec)
    planned = plan.find(node.name, step_id)
    assert planned is not None
    encoded = base64.b64encode(plan.render(planned).encode()).decode()
    path = f"{STEPS_DIR}/{planned.script}"
    command = f"mkdir -p -m 0700 {STEPS_DIR} && echo {encoded} | base64 -d > {path} && bash {path}"
    result = env.run(node, command, timeout=180)
    return result.returncode, result.stdout + result.stderr


def converge(env: Lab, node: LabNode, version: str, mirror: str) -> None:
    for step_id in ("kube-repo", "kube-packages"):
        code, out = run_step(env, node, version, mirror, step_id)
        assert code == 0 and "::k8stui-status:: changed" in out, out[-3000:]
        code, out = run_step(env, node, version, mirror, step_id)
        assert code == 0 and "::k8stui-status:: skipped" in out, out[-3000:]


def installed(env: Lab, node: LabNode, package: str) -> str:
    query = (f"dpkg-query -W -f='${{Version}}' {package}" if node.distro.key.startswith(("ubuntu", "debian"))
             else f"rpm -q --qf '%{{VERSION}}' {package}")
    return env.run(node, query).stdout.strip()


@pytest.mark.parametrize("distro", DISTROS)
def test_repo_and_pinned_packages_converge(lab: Any, distro: str) -> None:
    env: Lab = lab(*DISTROS)
    node = env.nodes[DISTROS.index(distro)]
    version, mirror, upgrade = CASES[distro]
    converge(env, node, version, mirror)
    full = {"1.36": "1.36.2", "1.35": "1.35.3", "1.37": "1.37.1"}.get(version, version)
    assert installed(env, node, "kubeadm").startswith(full)
    if distro.startswith(("ubuntu", "debian")):
        assert env.run(node, "apt-mark showhold").stdout.split() == ["kubeadm", "kubectl", "kubelet"]
    if upgrade:
        converge(env, node, upgrade, mirror)
        assert installed(env, node, "kubelet").startswith(upgrade)
