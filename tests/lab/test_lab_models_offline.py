"""The models' pure logic without a lab (no root needed): versions, mirror layouts, sources, resolution."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

OFFLINE = True  # conftest: not marked `lab`
sys.path.insert(0, str(Path(__file__).parent / "models"))

from labmodels import aptsrc, repos, resolve, state, vercmp  # noqa: E402

from k8stui.model import versions  # noqa: E402


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty node root with the lab's state files for an ubuntu-22.04 node."""
    monkeypatch.setattr(state, "STATE", str(tmp_path / "var/lib/lab"))
    monkeypatch.setattr(state, "ROOT", str(tmp_path))
    info = {
        "distro": "ubuntu-22.04",
        "family": "debian",
        "id": "ubuntu",
        "version_id": "22.04",
        "codename": "jammy",
        "el": 0,
    }
    state.save("node.json", info)
    state.save("catalog.json", {"latest_patch": versions.LATEST_PATCH})
    return tmp_path


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("1.34.5-1.1", "1.34.6-1.1"),
        ("1.34.9-1.1", "1.34.10-1.1"),
        ("1.0~rc1", "1.0"),
        ("2.0", "1:1.0"),
        ("5:20.10.24~3-0~ubuntu-jammy", "5:28.5.1-1~ubuntu.22.04~jammy"),
        ("1.28.15-00", "1.29.0-1.1"),
    ],
)
def test_version_order(low: str, high: str) -> None:
    assert vercmp.compare(low, high) == -1 and vercmp.compare(high, low) == 1
    assert vercmp.newest([high, low]) == high


def test_mirror_layouts() -> None:
    assert repos.kube_repo("https://pkgs.k8s.io/core:/stable:/v1.34/deb/", "deb") == ("official", 34)
    assert repos.kube_repo("https://mirrors.aliyun.com/kubernetes-new/core/stable/v1.33/rpm/", "rpm") == (
        "aliyun",
        33,
    )
    assert repos.kube_repo("https://mirrors.ustc.edu.cn/kubernetes/core:/stable:/v1.35/deb/", "deb") == (
        "ustc",
        35,
    )
    assert (
        repos.kube_repo("https://pkgs.k8s.io/core/stable/v1.34/deb/", "deb") is None
    )  # pkgs.k8s.io keeps :/
    assert repos.kube_repo("https://pkgs.k8s.io/core:/stable:/v1.34/rpm/", "deb") is None


def test_keys_and_versions_per_minor(node: Path) -> None:
    assert (
        repos.key_in(repos.fetch("https://pkgs.k8s.io/core:/stable:/v1.34/deb/Release.key").encode())[0]
        == "k8s"
    )
    assert "k8s-expired" in repos.fetch("https://pkgs.k8s.io/core:/stable:/v1.27/rpm/repodata/repomd.xml.key")
    assert repos.fetch("https://mirrors.ustc.edu.cn/kubernetes/core:/stable:/v1.34/deb/Release.key") is None
    assert repos.fetch("https://example.com/Release.key") is None
    carried = repos.kube_versions(34, "deb", legacy=False)["kubeadm"]
    assert carried[0] == "1.34.0-1.1" and carried[-1] == f"1.34.{versions.LATEST_PATCH[34]}-1.1"
    assert max(int(v.split(".")[1]) for v in repos.legacy_versions("deb")["kubelet"]) == 28


def test_sources_list_and_deb822(node: Path) -> None:
    lists = node / "etc/apt/sources.list.d"
    lists.mkdir(parents=True)
    (lists / "k.list").write_text(
        "# comment\ndeb [signed-by=/k.gpg arch=amd64] https://pkgs.k8s.io/core:/stable:/v1.34/deb/ /\n"
    )
    (lists / "d.sources").write_text(
        "Types: deb\nURIs: https://download.docker.com/linux/ubuntu\n"
        "Suites: jammy\nComponents: stable\nSigned-By: /d.asc\n"
    )
    found = aptsrc.sources()
    assert [(s.uri, s.suite, s.comps, s.opts.get("signed-by")) for s in found] == [
        ("https://pkgs.k8s.io/core:/stable:/v1.34/deb/", "/", [], "/k.gpg"),
        ("https://download.docker.com/linux/ubuntu", "jammy", ["stable"], "/d.asc"),
    ]
    assert isinstance(aptsrc.classify(found[1]), repos.Repo)
    (lists / "k.list").write_text("deb https://pkgs.k8s.io/core:/stable:/v1.34/deb/ / main\n")
    with pytest.raises(state.Fail, match="absolute Suite Component"):
        aptsrc.sources()


def test_resolution_pins_holds_and_dependencies(node: Path) -> None:
    avail = {
        "kubeadm": {"1.34.5-1.1": "kubernetes", "1.34.6-1.1": "kubernetes"},
        "cri-tools": {"1.34.0-1.1": "kubernetes"},
    }
    plan = resolve.plan([("kubeadm", "1.34.5-*")], avail, "debian")
    assert plan.install == [
        ("kubeadm", "1.34.5-1.1", "kubernetes", False),
        ("cri-tools", "1.34.0-1.1", "kubernetes", True),
    ]
    assert plan.extra  # apt asks before pulling in cri-tools
    with pytest.raises(resolve.Problem) as missing:
        resolve.plan([("kubeadm", "1.35.0-*")], avail, "debian")
    assert missing.value.kind == "version"
    state.save("pkg/installed.json", {"kubeadm": {"version": "1.34.6-1.1", "held": True}})
    with pytest.raises(resolve.Problem) as held:
        resolve.plan([("kubeadm", "1.34.5-*")], avail, "debian")
    assert held.value.kind == "held"
    assert resolve.plan([("kubeadm", None)], avail, "debian").unchanged == [("kubeadm", "1.34.6-1.1")]
    assert json.loads((node / "var/lib/lab/pkg/installed.json").read_text())["kubeadm"]["held"]


def test_the_lab_explains_why_it_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from .lab import missing_requirements

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert missing_requirements() == "the lab needs root (network, mount and PID namespaces)"
