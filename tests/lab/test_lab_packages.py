"""The package manager models: repositories, keys, versions, holds and excludes as on real machines."""

from __future__ import annotations

import pytest

from .lab import Lab, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))

PKGS = "https://pkgs.k8s.io/core:/stable:"
KEYRING = "/etc/apt/keyrings/kubernetes-apt-keyring.gpg"


def apt_repo(minor: str, base: str = PKGS, keyring: str = KEYRING, key_minor: str | None = None) -> str:
    """The official apt recipe (facts sheet section 1) for one minor, starting from a clean apt config."""
    return (f"rm -f /etc/apt/sources.list.d/* /etc/apt/keyrings/*; mkdir -p -m 755 /etc/apt/keyrings; "
            f"curl -fsSL {base}/{key_minor or minor}/deb/Release.key | gpg --dearmor -o {keyring} && "
            f"echo 'deb [signed-by={keyring}] {base}/{minor}/deb/ /' "
            "> /etc/apt/sources.list.d/kubernetes.list")


def yum_repo(minor: str, exclude: bool = True, gpgkey: str | None = None) -> str:
    key = gpgkey or f"{PKGS}/{minor}/rpm/repodata/repomd.xml.key"
    return ("cat > /etc/yum.repos.d/kubernetes.repo <<'EOF'\n[kubernetes]\nname=Kubernetes\n"
            f"baseurl={PKGS}/{minor}/rpm/\nenabled=1\ngpgcheck=1\ngpgkey={key}\n"
            + ("exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni\n" if exclude else "") + "EOF")


ALL = ("ubuntu-22.04", "ubuntu-24.04", "ubuntu-20.04", "debian-12", "centos-7", "rocky-9")


class Node:
    """One node of the module's shared lab (one node per distro), with a short way to run scripts."""

    def __init__(self, lab_factory, distro: str) -> None:
        self.env: Lab = lab_factory(*ALL)
        self.node = self.env.nodes[ALL.index(distro)]

    def run(self, script: str) -> tuple[int, str]:
        out = self.env.run(self.node, script)
        return out.returncode, out.stdout + out.stderr


# --- apt ---------------------------------------------------------------------------------

def test_apt_without_a_kubernetes_repo_cannot_install_kubeadm(lab) -> None:
    n = Node(lab, "ubuntu-22.04")
    code, out = n.run("apt-get update -q && apt-get install -y kubeadm")
    assert code == 100 and "E: Unable to locate package kubeadm" in out
    assert n.env.run(n.node, "command -v kubeadm").returncode == 1


def test_apt_pkgs_repo_carries_exactly_its_minor(lab) -> None:
    n = Node(lab, "ubuntu-22.04")
    code, out = n.run(apt_repo("v1.34") + " && apt-get update -q")
    assert code == 0, out
    code, out = n.run("apt-get install -y kubeadm=1.35.0-*")
    assert code == 100 and "E: Version '1.35.0-*' for 'kubeadm' was not found" in out
    code, out = n.run("apt-get install -y kubelet=1.34.6-* kubeadm=1.34.6-* kubectl=1.34.6-*")
    assert code == 0, out
    query = "dpkg-query -W -f='${Package}=${Version}\\n' kubelet kubeadm kubectl cri-tools"
    versions = n.env.run(n.node, query)
    assert versions.stdout.split() == ["kubelet=1.34.6-1.1", "kubeadm=1.34.6-1.1", "kubectl=1.34.6-1.1",
                                       "cri-tools=1.34.0-1.1"]
    assert n.env.run(n.node, "kubeadm version -o short").stdout.strip() == "v1.34.6"


def test_apt_held_packages_are_not_changed(lab) -> None:
    n = Node(lab, "ubuntu-24.04")
    assert n.run(apt_repo("v1.33") + " && apt-get update -q && apt-get install -y kubelet=1.33.1-* "
              "kubeadm=1.33.1-* kubectl=1.33.1-* && apt-mark hold kubelet kubeadm kubectl")[0] == 0
    assert n.env.run(n.node, "apt-mark showhold").stdout.split() == ["kubeadm", "kubectl", "kubelet"]
    code, out = n.run("apt-get upgrade -y; dpkg-query -W -f='${Version} ${Status}\\n' kubeadm")
    assert "kept back" in out and "1.33.1-1.1 hold ok installed" in out
    code, out = n.run("apt-get install -y kubeadm=1.33.7-*")
    assert code == 100 and "--allow-change-held-packages" in out
    code, out = n.run("apt-get install -y --allow-change-held-packages kubeadm=1.33.7-*")
    assert code == 0 and "Setting up kubeadm (1.33.7-1.1)" in out


def test_apt_key_mistakes_fail_like_apt(lab) -> None:
    n = Node(lab, "debian-12")
    assert n.env.run(n.node, "command -v gpg").returncode == 1  # Debian cloud images lack gpg
    assert n.run("apt-get install -y gpg")[0] == 0
    armored = ("rm -f /etc/apt/sources.list.d/*; mkdir -p /etc/apt/keyrings; "
               f"curl -fsSL {PKGS}/v1.34/deb/Release.key -o {KEYRING}; "
               f"echo 'deb [signed-by={KEYRING}] {PKGS}/v1.34/deb/ /' > /etc/apt/sources.list.d/k.list; "
               "apt-get update")
    code, out = n.run(armored)
    assert code == 100 and "unsupported filetype" in out and "is not signed" in out
    code, out = n.run(apt_repo("v1.24") + " && apt-get update")
    assert code == 100 and "EXPKEYSIG" in out  # keys served from <= v1.27 URLs expired in 2024-11
    code, out = n.run(apt_repo("v1.24", key_minor="v1.34") + " && apt-get update")
    assert code == 0, out
    code, out = n.run(f"curl -fsSL {PKGS}/v1.34/deb/Release.key | gpg --dearmor -o {KEYRING}")
    assert code == 2 and "exists" in out  # re-running a recipe must use --yes (or check first)
    code, out = n.run(f"curl -fsSL {PKGS}/v1.34/deb/Release.key | gpg --batch --yes --dearmor -o {KEYRING}")
    assert code == 0, out


def test_apt_repo_line_mistakes(lab) -> None:
    n = Node(lab, "debian-12")
    line = "echo '{}' > /etc/apt/sources.list.d/kubernetes.list; apt-get update"
    code, out = n.run(apt_repo("v1.34") + "; " + line.format(
        f"deb [signed-by={KEYRING}] {PKGS}/v1.34/deb/ bookworm main"))
    assert code == 100 and "does not have a Release file" in out
    code, out = n.run(line.format(f"deb [signed-by={KEYRING}] {PKGS}/v1.34/deb/"))
    assert code == 100 and "Malformed entry 1" in out
    code, out = n.run(line.format("deb https://example.com/k8s/ stable main"))
    assert code == 100 and "Could not resolve 'example.com'" in out
    code, out = n.run("curl -fsSL https://example.com/key")
    assert code == 6


def test_aliyun_legacy_repo_stops_at_1_28_and_skews_unpinned_dependencies(lab) -> None:
    n = Node(lab, "ubuntu-20.04")
    legacy = "https://mirrors.aliyun.com/kubernetes"
    keyring = "/etc/apt/keyrings/aliyun.gpg"
    setup = (f"rm -f /etc/apt/sources.list.d/*; mkdir -p /etc/apt/keyrings; "
             f"curl -fsSL {legacy}/apt/doc/apt-key.gpg | gpg --batch --yes --dearmor -o {keyring} && "
             f"echo 'deb [signed-by={keyring}] {legacy}/apt/ kubernetes-xenial main' "
             "> /etc/apt/sources.list.d/k.list && apt-get update -q")
    assert n.run(setup)[0] == 0
    code, out = n.run("apt-get install -y kubeadm=1.29.0-00")
    assert code == 100 and "was not found" in out
    code, out = n.run("apt-get install -y kubeadm=1.23.6-00")
    assert code == 0, out
    assert "Setting up kubelet (1.28.15-00)" in out  # the newest kubelet, not 1.23.6: pin all three


def test_docker_ce_repo_provides_containerd_io(lab) -> None:
    n = Node(lab, "ubuntu-22.04")
    code, out = n.run("apt-get install -y containerd.io")
    assert code == 100 and "Unable to locate package containerd.io" in out
    docker = "https://download.docker.com/linux/ubuntu"
    code, out = n.run(f"curl -fsSL {docker}/gpg -o /etc/apt/keyrings/docker.asc && echo 'deb "
                           f"[signed-by=/etc/apt/keyrings/docker.asc] {docker} focal stable' > "
                           "/etc/apt/sources.list.d/docker.list && apt-get update")
    assert code == 100 and "does not have a Release file" in out  # wrong codename for jammy
    code, out = n.run(f"echo 'deb [signed-by=/etc/apt/keyrings/docker.asc] {docker} jammy stable' > "
                           "/etc/apt/sources.list.d/docker.list && apt-get update && "
                      "apt-get install -y containerd.io && cat /etc/containerd/config.toml && "
                      "systemctl is-active containerd")
    assert code == 0, out
    assert 'disabled_plugins = ["cri"]' in out and out.strip().endswith("active")


# --- yum / dnf ---------------------------------------------------------------------------

def test_yum_exclude_needs_disableexcludes(lab) -> None:
    n = Node(lab, "centos-7")
    code, out = n.run(yum_repo("v1.34") + "\nyum install -y kubelet kubeadm kubectl")
    assert code == 1 and "No package kubelet available." in out
    code, out = n.run("yum install -y kubeadm-1.35.0 --disableexcludes=kubernetes")
    assert code == 1 and "No package kubeadm-1.35.0 available." in out
    code, out = n.run("yum install -y kubelet-1.34.6 kubeadm-1.34.6 kubectl-1.34.6 "
                           "--disableexcludes=kubernetes && rpm -q kubeadm && systemctl is-enabled kubelet")
    assert "kubeadm-1.34.6-150500.1.1.x86_64" in out and out.strip().endswith("disabled")  # rpm: not enabled


def test_yum_unreachable_repo_or_key_fails(lab) -> None:
    n = Node(lab, "centos-7")
    code, out = n.run("rm -f /etc/yum.repos.d/kubernetes.repo; "
                      "printf '[x]\\nbaseurl=https://example.com/el7/\\nenabled=1\\n' "
                      "> /etc/yum.repos.d/x.repo; yum makecache; yum install -y socat")
    assert code == 1 and "One of the configured repositories failed (x)" in out
    code, out = n.run("rm /etc/yum.repos.d/x.repo; " + yum_repo("v1.34", exclude=False,
                   gpgkey="https://example.com/key") + "\nyum remove -y kubectl; yum install -y kubectl")
    assert code == 1 and "GPG key retrieval failed" in out


def test_dnf_wording_and_docker_repo_on_rocky(lab) -> None:
    n = Node(lab, "rocky-9")
    code, out = n.run("dnf install -y containerd.io")
    assert code == 1 and "Error: Unable to find a match: containerd.io" in out
    code, out = n.run("dnf config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo"
                           " && dnf install -y containerd.io && rpm -q containerd.io && containerd --version")
    assert code == 0, out
    assert "containerd.io-2.1.5-1.el9.x86_64" in out and "containerd containerd.io 2.1.5" in out
    code, out = n.run("dnf install containerd.io")
    assert code == 0 and "already installed" in out
    code, out = n.run("dnf install socat")
    assert code == 1 and "Operation aborted" in out  # no -y, no tty


def test_apt_deb822_sources_and_apt_key(lab) -> None:
    n = Node(lab, "ubuntu-24.04")
    deb822 = ("rm -f /etc/apt/sources.list.d/*; "
              f"curl -fsSL {PKGS}/v1.32/deb/Release.key | gpg --batch --yes --dearmor -o {KEYRING}; "
              "printf 'Types: deb\\nURIs: %s\\nSuites: /\\nSigned-By: %s\\n' "
              f"'{PKGS}/v1.32/deb/' {KEYRING} > /etc/apt/sources.list.d/kubernetes.sources; ")
    code, out = n.run(deb822 + "apt-get update && apt-cache policy kubeadm")
    assert code == 0 and "Candidate: 1.32.11-1.1" in out, out
    code, out = n.run("sed -i 's|^Suites: /|Suites: noble|' /etc/apt/sources.list.d/kubernetes.sources; "
                      "apt-get update")
    assert code == 100 and "Malformed stanza 1" in out
    legacy = ("rm -f /etc/apt/sources.list.d/*; echo 'deb https://mirrors.aliyun.com/kubernetes/apt/ "
              "kubernetes-xenial main' > /etc/apt/sources.list.d/k.list; ")
    code, out = n.run(legacy + "apt-get update")
    assert code == 100 and "NO_PUBKEY" in out
    key = "https://mirrors.aliyun.com/kubernetes/apt/doc/apt-key.gpg"
    code, out = n.run(f"curl -fsSL {key} | apt-key add - && apt-get update")
    assert code == 0 and "apt-key is deprecated" in out and "OK" in out
