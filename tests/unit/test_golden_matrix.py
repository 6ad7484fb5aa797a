"""The Kubernetes steps rendered over OS x version x mirror x CNI x proxy mode, checked against the facts.

Expected values are written out literally (not recomputed through `versions`), so a wrong decision in
the catalog fails here too. Embedded configs are pulled out of the scripts and parsed.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8stui.model.cluster import ClusterSpec
from k8stui.recipes.plan import build_plan

ALI = "registry.aliyuncs.com/google_containers"
OSES = ("centos-7", "rocky-8", "rocky-9", "debian-11", "debian-12",
        "ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04")
KUBE_STEPS = ("kube-repo", "kube-packages", "containerd", "docker", "images", "init", "kubeconfig", "cni",
              "join-control-plane", "join", "untaint", "fetch-kubeconfig", "smoke")
TOKEN = "abcdef.0123456789abcdef"
OUTPUTS = {"token": TOKEN, "ca_hash": "sha256:" + "c" * 64, "certificate_key": "d" * 64}


@dataclass(frozen=True)
class Case:
    version: str  # as written in the file
    full: str  # the patch it means
    runtime: str
    mirror: str
    repository: str
    api: str  # kubeadm API version
    pause: str
    deb: str  # expected apt source (after signed-by)
    rpm: str  # expected yum baseurl
    deb_pin: str  # what kube-packages matches in apt-cache madison
    endpoint: str | None = None


def _pkgs(base: str, minor: str) -> tuple[str, str]:
    return f"{base}/v1.{minor}/deb/ /", f"{base}/v1.{minor}/rpm/"


LEGACY_DEB = "https://mirrors.aliyun.com/kubernetes/apt/ kubernetes-xenial main"
LEGACY_RPM = "https://mirrors.aliyun.com/kubernetes/yum/repos/kubernetes-el7-x86_64/"
CASES = (
    Case("1.19.4", "1.19.4", "docker", "aliyun-legacy", ALI, "v1beta2", f"{ALI}/pause:3.2",
         LEGACY_DEB, LEGACY_RPM, "1.19.4-00"),
    Case("1.23.6", "1.23.6", "docker", "aliyun-legacy", ALI, "v1beta3", f"{ALI}/pause:3.6",
         LEGACY_DEB, LEGACY_RPM, "1.23.6-00", "k8s-api.internal:6443"),
    Case("1.34.6", "1.34.6", "containerd", "official", "registry.k8s.io", "v1beta4",
         "registry.k8s.io/pause:3.10.1", *_pkgs("https://pkgs.k8s.io/core:/stable:", "34"), "1.34.6-"),
    Case("1.35", "1.35.3", "containerd", "aliyun", ALI, "v1beta4", f"{ALI}/pause:3.10.1",
         *_pkgs("https://mirrors.aliyun.com/kubernetes-new/core/stable", "35"), "1.35.3-",
         "k8s-api.internal:6443"),
    Case("1.35.0", "1.35.0", "containerd", "official", "registry.k8s.io", "v1beta4",
         "registry.k8s.io/pause:3.10.1", *_pkgs("https://pkgs.k8s.io/core:/stable:", "35"), "1.35.0-"),
    Case("1.36", "1.36.2", "containerd", "ustc", "registry.k8s.io", "v1beta4", "registry.k8s.io/pause:3.10.1",
         *_pkgs("https://mirrors.ustc.edu.cn/kubernetes/core:/stable:", "36"), "1.36.2-"),
    Case("1.36.0", "1.36.0", "containerd", "aliyun", ALI, "v1beta4", f"{ALI}/pause:3.10.1",
         *_pkgs("https://mirrors.aliyun.com/kubernetes-new/core/stable", "36"), "1.36.0-", "10.0.0.100:6443"),
    Case("1.37", "1.37.1", "containerd", "tuna", ALI, "v1beta4", f"{ALI}/pause:3.10.1",
         *_pkgs("https://mirrors.tuna.tsinghua.edu.cn/kubernetes/core:/stable:", "37"), "1.37.1-",
         "k8s-api.internal:6443"),
)
CNIS = ("flannel", "calico")


def proxy_for(case: Case, index: int) -> str:
    modes = ["iptables", "ipvs"] + (["nftables"] if case.api == "v1beta4" else [])
    return modes[index % len(modes)]


MATRIX = [(case, os_name, CNIS[i % 2], proxy_for(case, i))
          for i, (case, os_name) in enumerate(itertools.product(CASES, OSES))]


def make_spec(case: Case, cni: str, proxy: str) -> ClusterSpec:
    nodes: list[dict[str, Any]] = [
        {"name": "cp1", "address": "203.0.113.10", "internalIP": "10.0.0.11", "role": "control-plane"}]
    if case.endpoint:
        nodes.append({"name": "cp2", "address": "10.0.0.12", "role": "control-plane"})
    nodes.append({"name": "w1", "address": "10.0.0.21", "ssh": {"user": "ops"}})
    kubernetes = {"version": case.version, "runtime": case.runtime, "packageMirror": case.mirror,
                  "imageRepository": case.repository, "controlPlaneEndpoint": case.endpoint,
                  "untaintControlPlane": True}
    network = {"cni": cni, "proxyMode": proxy, "podSubnet": "10.32.0.0/16", "serviceSubnet": "10.112.0.0/12"}
    return ClusterSpec.model_validate({"kubernetes": kubernetes, "network": network, "nodes": nodes})


def render_all(spec: ClusterSpec, os_name: str, outputs: dict[str, str]) -> dict[tuple[str, str], str]:
    plan = build_plan(spec, os_override=os_name)
    return {p.key: plan.render(p, outputs=outputs) for p in plan if p.step.id in KUBE_STEPS}


def heredoc(script: str, function: str) -> str:
    match = re.search(rf"^{function}\(\) {{\n  cat <<'K8STUI_EOF'\n(.*?)^K8STUI_EOF$", script, re.S | re.M)
    assert match, f"no heredoc in {function}()"
    return match.group(1)


def kinds(text: str) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in yaml.safe_load_all(text) if d}


def _ids(item: tuple[Case, str, str, str]) -> str:
    case, os_name, cni, proxy = item
    return f"{case.version}-{case.runtime}-{case.mirror}-{os_name}-{cni}-{proxy}"


@pytest.fixture(params=MATRIX, ids=[_ids(m) for m in MATRIX])
def rendered(request: pytest.FixtureRequest) -> tuple[Case, str, str, str, dict[tuple[str, str], str]]:
    case, os_name, cni, proxy = request.param
    return case, os_name, cni, proxy, render_all(make_spec(case, cni, proxy), os_name, OUTPUTS)


Rendered = tuple[Case, str, str, str, dict[tuple[str, str], str]]


def test_package_repository_and_pins(rendered: Rendered) -> None:
    case, os_name, _, _, scripts = rendered
    repo, packages = scripts["cp1", "kube-repo"], scripts["w1", "kube-packages"]
    assert f"WANT={case.full}" in packages
    if os_name.startswith(("debian", "ubuntu")):
        assert heredoc(repo, "desired_repo").strip() == \
            f"deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] {case.deb}"
        assert f"awk -v want={case.deb_pin} " in packages
        assert "apt-mark hold" in packages
    else:
        content = heredoc(repo, "desired_repo")
        assert f"baseurl={case.rpm}\n" in content
        assert "exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni\n" in content
        assert f'args+=("$p-{case.full}")' in packages and "--disableexcludes=kubernetes" in packages


def test_runtime(rendered: Rendered) -> None:
    case, _, _, _, scripts = rendered
    containerd, docker = ("w1", "containerd") in scripts, ("w1", "docker") in scripts
    assert (containerd, docker) == (case.runtime == "containerd", case.runtime == "docker")
    if docker:
        daemon = json.loads(heredoc(scripts["w1", "docker"], "desired_daemon_json"))
        assert daemon["exec-opts"] == ["native.cgroupdriver=systemd"]
        assert bool(daemon.get("registry-mirrors")) is (case.mirror != "official")
        return
    script = scripts["w1", "containerd"]
    assert f"FALLBACK_PAUSE={case.pause}\n" in script
    assert f"--image-repository {case.repository}" in script
    assert "SANDBOX_KEY=sandbox_image" in script and "SANDBOX_KEY=sandbox\n" in script
    assert "'plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options'" in script
    assert "io.containerd.cri.v1.runtime" in script
    needs_2 = case.full.startswith(("1.36", "1.37"))
    assert ("needs containerd >= 2.0" in script) is needs_2
    assert "unix:///var/run/containerd/containerd.sock" in heredoc(script, "desired_crictl")


def test_images_on_control_planes_only(rendered: Rendered) -> None:
    case, _, _, _, scripts = rendered
    socket = "/var/run/dockershim.sock" if case.runtime == "docker" else "unix:///var/run/containerd/containerd.sock"
    assert ("w1", "images") not in scripts
    script = scripts["cp1", "images"]
    assert f"--kubernetes-version v{case.full} --image-repository {case.repository}" in script
    assert f"--cri-socket {socket}" in script


def test_init_config(rendered: Rendered) -> None:
    case, _, _, proxy, scripts = rendered
    script = scripts["cp1", "init"]
    docs = kinds(heredoc(script, "init_config"))
    init, cluster = docs["InitConfiguration"], docs["ClusterConfiguration"]
    assert init["apiVersion"] == cluster["apiVersion"] == f"kubeadm.k8s.io/{case.api}"
    assert init["localAPIEndpoint"]["advertiseAddress"] == "10.0.0.11"
    socket = "/var/run/dockershim.sock" if case.runtime == "docker" else "unix:///var/run/containerd/containerd.sock"
    assert init["nodeRegistration"]["criSocket"] == socket
    args = init["nodeRegistration"]["kubeletExtraArgs"]
    node_ip = {a["name"]: a["value"] for a in args}["node-ip"] if case.api == "v1beta4" else args["node-ip"]
    assert node_ip == "10.0.0.11"
    assert cluster["kubernetesVersion"] == f"v{case.full}" and cluster["imageRepository"] == case.repository
    assert cluster["networking"]["podSubnet"] == "10.32.0.0/16"
    assert cluster["networking"]["serviceSubnet"] == "10.112.0.0/12"
    assert docs["KubeProxyConfiguration"]["mode"] == proxy
    assert docs["KubeletConfiguration"]["cgroupDriver"] == "systemd"
    assert "203.0.113.10" in cluster["apiServer"]["certSANs"]
    assert cluster.get("controlPlaneEndpoint") == case.endpoint
    assert ("--upload-certs" in script) is bool(case.endpoint)
    # The bootstrap token is generated on the node: no token in the script text.
    assert not re.search(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b", script)
    assert "kubeadm token generate" in script


def test_joins_use_inits_outputs(rendered: Rendered) -> None:
    case, _, _, _, scripts = rendered
    join = kinds(heredoc(scripts["w1", "join"], "join_config"))["JoinConfiguration"]
    assert join["apiVersion"] == f"kubeadm.k8s.io/{case.api}"
    token = join["discovery"]["bootstrapToken"]
    assert token["apiServerEndpoint"] == (case.endpoint or "10.0.0.11:6443")
    assert token["token"] == TOKEN and token["caCertHashes"] == [OUTPUTS["ca_hash"]]
    assert "controlPlane" not in join
    if case.endpoint:
        cp = kinds(heredoc(scripts["cp2", "join-control-plane"], "join_config"))["JoinConfiguration"]
        assert cp["controlPlane"] == {"localAPIEndpoint": {"advertiseAddress": "10.0.0.12", "bindPort": 6443},
                                      "certificateKey": OUTPUTS["certificate_key"]}
    else:
        assert not any(step == "join-control-plane" for _, step in scripts)


def test_cni_manifest_matches_pod_subnet(rendered: Rendered) -> None:
    _, _, cni, _, scripts = rendered
    script = scripts["cp1", "cni"]
    objects = [d for d in yaml.safe_load_all(heredoc(script, "cni_manifest")) if d]
    if cni == "flannel":
        cm = next(o for o in objects if o["kind"] == "ConfigMap")
        assert json.loads(cm["data"]["net-conf.json"])["Network"] == "10.32.0.0/16"
        assert "get daemonset kube-flannel-ds" in script
    else:
        ds = next(o for o in objects if o["kind"] == "DaemonSet")
        env = {e["name"]: e.get("value") for e in ds["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["CALICO_IPV4POOL_CIDR"] == "10.32.0.0/16"
        assert "get daemonset calico-node" in script
    # Applied from the embedded copy, never fetched.
    apply_body = script.split("\napply() {\n")[1].split("\n}\n")[0]
    assert "https://" not in apply_body and 'kc apply -f "$CNI_FILE"' in apply_body


def test_untaint_smoke_kubeconfig(rendered: Rendered) -> None:
    case, _, _, _, scripts = rendered
    untaint = scripts["cp1", "untaint"]
    assert "node-role.kubernetes.io/" in untaint
    assert ("node-role.kubernetes.io/master" in untaint) is (case.full < "1.25")
    smoke = heredoc(scripts["cp1", "smoke"], "smoke_manifest")
    image = kinds(smoke)["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    china = case.mirror != "official" or case.repository != "registry.k8s.io"
    assert image.startswith("docker.io/") is not china
    assert "KUBE_USER=root" in scripts["cp1", "kubeconfig"]
    assert "output kubeconfig_b64" in scripts["cp1", "fetch-kubeconfig"]


def test_join_without_outputs_refuses_to_run(tmp_path: Path) -> None:
    case = CASES[2]
    script = render_all(make_spec(case, "flannel", "iptables"), "ubuntu-22.04", {})["w1", "join"]
    assert "__K8STUI_MISSING_TOKEN__" in script
    head, _, _ = script.rpartition('main "$@"')
    harness = tmp_path / "join.sh"
    # Point every path the apply could touch at the temp dir before calling it.
    paths = f"KUBELET_CONF={tmp_path}/kubelet.conf\nJOIN_CONFIG={tmp_path}/join.yaml\n"
    harness.write_text(head + paths + "apply\n")
    result = subprocess.run(["bash", str(harness)], capture_output=True, text=True, timeout=30, check=False,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "rendered without the outputs of kubeadm init" in result.stderr
    assert not (tmp_path / "join.yaml").exists()
