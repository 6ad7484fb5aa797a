"""`k8stui plan` and `k8stui render`: offline, from a cluster file, through the real CLI entry point."""

from __future__ import annotations

import json
import stat
import textwrap
from pathlib import Path

import pytest
import yaml

from k8stui.cli import main
from k8stui.recipes.catalog import CATALOG


def _script(step_id: str) -> str:
    """`NN-<id>.sh`: numbers are catalog positions, so they move when steps are added."""
    return next(f"{i:02d}-{s.id}.sh" for i, s in enumerate(CATALOG) if s.id == step_id)

FILE = """\
apiVersion: k8stui/v1
kind: Cluster
name: lab
kubernetes:
  version: "{version}"
  runtime: {runtime}
  packageMirror: {mirror}
network:
  cni: {cni}
nodes:
  - name: master1
    address: 203.0.113.10
    internalIP: 10.0.0.11
    role: control-plane
  - name: node1
    address: 10.0.0.21
    role: worker
    os: {worker_os}
"""


def cluster_file(tmp_path: Path, version: str = "1.34.6", runtime: str = "containerd",
                 mirror: str = "official", cni: str = "flannel", worker_os: str = "rocky-9") -> Path:
    path = tmp_path / "cluster.yaml"
    text = FILE.format(version=version, runtime=runtime, mirror=mirror, cni=cni, worker_os=worker_os)
    path.write_text(text)
    return path


def test_render_writes_scripts_and_configs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", "-f", str(cluster_file(tmp_path)), "-o", str(out), "--os", "ubuntu-22.04"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {"master1", "node1", "kubeadm-config.yaml", "cni.yaml",
                                               "containerd-config.toml"}
    master = sorted(p.name for p in (out / "master1").iterdir())
    assert master[0] == "00-facts.sh" and _script("init") in master and _script("cni") in master
    worker = sorted(p.name for p in (out / "node1").iterdir())
    assert _script("join") in worker and _script("selinux") in worker and _script("init") not in worker
    assert not any("preflight" in name for name in master)  # a local step: no script
    init = out / "master1" / _script("init")
    assert stat.S_IMODE(init.stat().st_mode) == 0o755
    assert init.read_text().startswith("#!/usr/bin/env bash\n# k8stui-step: init master1")
    docs = [d for d in yaml.safe_load_all((out / "kubeadm-config.yaml").read_text()) if d]
    assert [d["kind"] for d in docs] == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration",
                                         "KubeProxyConfiguration"]
    assert "version = 2" in (out / "containerd-config.toml").read_text()
    assert "__K8STUI_MISSING_TOKEN__" in (out / "node1" / _script("join")).read_text()


def test_render_docker_without_cni(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = cluster_file(tmp_path, version="1.23.6", runtime="docker", mirror="aliyun-legacy", cni="none")
    assert main(["render", "-f", str(path), "-o", str(out), "--os", "centos-7"]) == 0
    names = {p.name for p in out.iterdir()}
    assert "daemon.json" in names and "cni.yaml" not in names and "containerd-config.toml" not in names
    assert json.loads((out / "daemon.json").read_text())["exec-opts"] == ["native.cgroupdriver=systemd"]
    assert (out / "master1" / _script("docker")).exists() and not (out / "master1" / _script("cni")).exists()


def test_rerender_replaces_stale_scripts_and_configs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["render", "-f", str(cluster_file(tmp_path)), "-o", str(out), "--os", "debian-12"]) == 0
    (out / "node1" / "notes.txt").write_text("mine")
    path = cluster_file(tmp_path, version="1.23.6", runtime="docker", mirror="aliyun-legacy", cni="none")
    assert main(["render", "-f", str(path), "-o", str(out), "--os", "debian-12"]) == 0
    node1 = out / "node1"
    assert not (node1 / _script("containerd")).exists() and (node1 / _script("docker")).exists()
    assert not (out / "cni.yaml").exists() and not (out / "containerd-config.toml").exists()
    assert (out / "node1" / "notes.txt").read_text() == "mine"


def test_render_needs_an_os_for_every_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", "-f", str(cluster_file(tmp_path)), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "master1" in err and "--os" in err
    assert not out.exists()


def test_unsupported_os_and_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(cluster_file(tmp_path)), "--os", "windows-11"]) == 2
    assert "unsupported OS" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("kubernetes:\n  runtime: podman\n")
    assert main(["render", "-f", str(bad), "-o", str(tmp_path / "o"), "--os", "rocky-9"]) == 2
    assert "runtime" in capsys.readouterr().err


def test_plan_lists_ordered_steps_and_waits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(cluster_file(tmp_path)), "--os", "ubuntu-24.04"]) == 0
    out = capsys.readouterr().out
    master, worker = out.split("node1 (")
    assert master.startswith("master1 (control-plane, ubuntu-24.04, 10.0.0.11)")
    assert "rocky-9" in worker.splitlines()[0]
    numbers = [int(line.split()[0]) for line in master.splitlines()[1:]]
    assert numbers == sorted(numbers)
    assert f"  {_script('init')[:2]}  init" in master
    join = next(line for line in worker.splitlines() if " join " in line)
    assert join.split()[:2] == [_script("join")[:2], "join"] and "[waits for init@master1]" in join
    smoke = next(line for line in master.splitlines() if "smoke" in line)
    assert "join@node1" in smoke


def test_render_plan_matches_plan_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cluster_file(tmp_path, worker_os="debian-12")
    assert main(["plan", "-f", str(path), "--os", "ubuntu-22.04"]) == 0
    listed = {line.split()[0] + "-" + line.split()[1] + ".sh"
              for line in capsys.readouterr().out.splitlines() if line.startswith("  ")}
    out = tmp_path / "out"
    assert main(["render", "-f", str(path), "-o", str(out), "--os", "ubuntu-22.04"]) == 0
    written = {p.name for node in ("master1", "node1") for p in (out / node).iterdir()}
    assert written == listed - {_script(s.id) for s in CATALOG if s.kind.value == "local"}


def test_example_from_the_contract_renders(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent("""\
        kubernetes: {version: "1.37", packageMirror: tuna, controlPlaneEndpoint: "k8s-api.internal:6443"}
        network: {cni: calico, proxyMode: nftables, interface: eth1}
        nodes:
          - {name: cp1, address: 10.0.0.11, role: control-plane, os: ubuntu-24.04}
          - {name: cp2, address: 10.0.0.12, role: control-plane, os: rocky-9}
          - {name: w1, address: 10.0.0.21, os: debian-12}
        """))
    out = tmp_path / "out"
    assert main(["render", "-f", str(path), "-o", str(out)]) == 0
    assert (out / "cp2" / _script("join-control-plane")).exists()
    assert "version = 3" in (out / "containerd-config.toml").read_text()
    assert "interface=eth1" in (out / "cni.yaml").read_text()


def test_warnings_go_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('kubernetes: {version: "1.36", packageMirror: aliyun}\n'
                    "nodes: [{name: cp1, address: 10.0.0.11, role: control-plane, os: rocky-9}]\n")
    assert main(["render", "-f", str(path), "-o", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "aliyun" in captured.err
    assert "warning:" not in captured.out
