"""Config files and manifests k8stui writes (kubeadm, CNI, runtime), and the shell pieces that edit them."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8stui.model.cluster import ClusterSpec
from k8stui.recipes import artifacts
from k8stui.recipes.plan import build_plan

tomllib = pytest.importorskip("tomllib")


def make_spec(kubernetes: dict[str, Any] | None = None, network: dict[str, Any] | None = None,
              planes: int = 1, workers: int = 1) -> ClusterSpec:
    nodes: list[dict[str, Any]] = [{"name": "cp1", "address": "203.0.113.10", "internalIP": "10.0.0.11",
                                    "role": "control-plane"}]
    nodes += [{"name": f"cp{i}", "address": f"10.0.0.{10 + i}", "role": "control-plane"}
              for i in range(2, planes + 1)]
    nodes += [{"name": f"w{i}", "address": f"10.0.0.{20 + i}"} for i in range(1, workers + 1)]
    data = {"kubernetes": kubernetes or {}, "network": network or {}, "nodes": nodes}
    return ClusterSpec.model_validate(data)


def docs(text: str) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in yaml.safe_load_all(text) if d}


HA = {"controlPlaneEndpoint": "k8s-api.internal:6443"}
ALI = "registry.aliyuncs.com/google_containers"


def one_node(address: str) -> ClusterSpec:
    return ClusterSpec.model_validate({"nodes": [{"name": "a", "address": address, "role": "control-plane"}]})


def test_init_config_v1beta4_with_endpoint_and_public_address() -> None:
    spec = make_spec({"version": "1.34.6", **HA, "imageRepository": ALI},
                     {"proxyMode": "ipvs", "podSubnet": "10.10.0.0/16"}, planes=2)
    found = docs(artifacts.kubeadm_init_config(spec))
    init, cluster = found["InitConfiguration"], found["ClusterConfiguration"]
    assert init["apiVersion"] == cluster["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert init["localAPIEndpoint"]["advertiseAddress"] == "10.0.0.11"
    assert init["nodeRegistration"] == {
        "name": "cp1", "criSocket": "unix:///var/run/containerd/containerd.sock",
        "kubeletExtraArgs": [{"name": "node-ip", "value": "10.0.0.11"}]}
    assert init["bootstrapTokens"][0]["token"] == artifacts.TOKEN_PLACEHOLDER
    assert init["bootstrapTokens"][0]["ttl"] == "24h"
    assert cluster["controlPlaneEndpoint"] == "k8s-api.internal:6443"
    assert cluster["apiServer"]["certSANs"] == ["k8s-api.internal", "203.0.113.10"]
    assert cluster["kubernetesVersion"] == "v1.34.6"
    assert cluster["imageRepository"] == "registry.aliyuncs.com/google_containers"
    assert cluster["networking"] == {"podSubnet": "10.10.0.0/16", "serviceSubnet": "10.96.0.0/12",
                                     "dnsDomain": "cluster.local"}
    assert found["KubeletConfiguration"] == {"apiVersion": "kubelet.config.k8s.io/v1beta1",
                                             "kind": "KubeletConfiguration", "cgroupDriver": "systemd"}
    assert found["KubeProxyConfiguration"]["mode"] == "ipvs"


def test_init_config_v1beta2_maps_and_docker_pause_for_dockershim() -> None:
    spec = make_spec({"version": "1.19.4", "runtime": "docker", "packageMirror": "aliyun-legacy",
                      "imageRepository": "registry.aliyuncs.com/google_containers", "tokenTTL": "0"})
    found = docs(artifacts.kubeadm_init_config(spec))
    init = found["InitConfiguration"]
    assert init["apiVersion"] == "kubeadm.k8s.io/v1beta2"
    assert init["nodeRegistration"]["criSocket"] == "/var/run/dockershim.sock"
    assert init["nodeRegistration"]["kubeletExtraArgs"] == {
        "node-ip": "10.0.0.11",
        "pod-infra-container-image": "registry.aliyuncs.com/google_containers/pause:3.2"}
    assert init["bootstrapTokens"][0]["ttl"] == "0s"
    assert "controlPlaneEndpoint" not in found["ClusterConfiguration"]


def test_cert_sans_absent_when_ssh_address_is_the_node_ip() -> None:
    spec = one_node("10.0.0.5")
    assert "apiServer" not in docs(artifacts.kubeadm_init_config(spec))["ClusterConfiguration"]


@pytest.mark.parametrize(("version", "fail", "expected"), [
    ("1.35.3", False, False), ("1.35.3", True, None), ("1.34.6", False, None), ("1.37.1", False, False),
])
def test_fail_cgroup_v1(version: str, fail: bool, expected: bool | None) -> None:
    spec = make_spec({"version": version, "failCgroupV1": fail})
    assert docs(artifacts.kubeadm_init_config(spec))["KubeletConfiguration"].get("failCgroupV1") is expected


def test_join_config_worker_v1beta3_with_outputs() -> None:
    spec = make_spec({"version": "1.23.6", "runtime": "docker", "packageMirror": "aliyun-legacy"})
    outputs = {"token": "abcdef.0123456789abcdef", "ca_hash": "a" * 64}
    join = docs(artifacts.join_config(spec, spec.node("w1"), outputs))["JoinConfiguration"]
    assert join["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert join["discovery"] == {"bootstrapToken": {
        "apiServerEndpoint": "10.0.0.11:6443", "token": "abcdef.0123456789abcdef",
        "caCertHashes": ["sha256:" + "a" * 64]}, "timeout": "5m0s"}
    assert join["nodeRegistration"]["kubeletExtraArgs"]["node-ip"] == "10.0.0.21"
    assert "controlPlane" not in join and "timeouts" not in join


def test_join_config_control_plane_v1beta4_placeholders() -> None:
    spec = make_spec({"version": "1.37.1", **HA}, planes=2)
    join = docs(artifacts.join_config(spec, spec.node("cp2"), {}))["JoinConfiguration"]
    assert join["timeouts"] == {"discovery": "5m0s"} and "timeout" not in join["discovery"]
    token = join["discovery"]["bootstrapToken"]
    assert token["apiServerEndpoint"] == "k8s-api.internal:6443"
    assert token["token"].startswith(artifacts.MISSING_PREFIX)
    assert token["caCertHashes"][0].startswith(artifacts.MISSING_PREFIX)
    assert join["controlPlane"]["localAPIEndpoint"]["advertiseAddress"] == "10.0.0.12"
    assert join["controlPlane"]["certificateKey"].startswith(artifacts.MISSING_PREFIX)
    assert join["nodeRegistration"]["kubeletExtraArgs"] == [{"name": "node-ip", "value": "10.0.0.12"}]


def test_node_without_ip_is_a_clear_error() -> None:
    spec = one_node("cp.example")
    with pytest.raises(ValueError, match="internalIP"):
        artifacts.kubeadm_init_config(spec)


def _valid_objects(text: str) -> list[dict[str, Any]]:
    objects = [d for d in yaml.safe_load_all(text) if d]
    for obj in objects:
        assert obj["apiVersion"] and obj["kind"] and obj["metadata"]["name"], obj
    return objects


def test_flannel_manifest() -> None:
    spec = make_spec(network={"podSubnet": "10.20.0.0/16", "interface": "eth1"})
    objects = _valid_objects(artifacts.cni_manifest(spec) or "")
    cm = next(o for o in objects if o["kind"] == "ConfigMap")
    assert json.loads(cm["data"]["net-conf.json"])["Network"] == "10.20.0.0/16"
    assert json.loads(cm["data"]["net-conf.json"])["Backend"] == {"Type": "vxlan"}
    ds = next(o for o in objects if o["kind"] == "DaemonSet")
    assert ds["metadata"] == {"name": "kube-flannel-ds", "namespace": "kube-flannel",
                              "labels": {"tier": "node", "app": "flannel", "k8s-app": "flannel"}}
    container = ds["spec"]["template"]["spec"]["containers"][0]
    assert "--iface=eth1" in container["args"]
    assert container["image"].startswith("ghcr.io/flannel-io/flannel:")


def test_flannel_china_images_and_no_iface_by_default() -> None:
    spec = make_spec({"packageMirror": "aliyun"})
    # Every node reached at its node IP: flannel keeps its own default (the default-route NIC).
    nodes = [n.model_copy(update={"address": n.node_ip, "internal_ip": None}) for n in spec.nodes]
    spec = spec.model_copy(update={"nodes": nodes})
    ds = next(o for o in _valid_objects(artifacts.cni_manifest(spec) or "") if o["kind"] == "DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    assert not any(a.startswith("--iface") for a in pod["containers"][0]["args"])
    images = [c["image"] for c in pod["containers"] + pod["initContainers"]]
    assert images and not any(i.startswith("ghcr.io/") for i in images)


def test_flannel_binds_to_the_node_ip_when_ssh_address_differs() -> None:
    spec = make_spec()
    nodes = [n.model_copy(update={"address": f"203.0.113.{i + 10}", "internal_ip": n.node_ip})
             for i, n in enumerate(spec.nodes)]
    spec = spec.model_copy(update={"nodes": nodes})
    ds = next(o for o in _valid_objects(artifacts.cni_manifest(spec) or "") if o["kind"] == "DaemonSet")
    container = ds["spec"]["template"]["spec"]["containers"][0]
    assert "--iface=$(NODE_IP)" in container["args"]
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in container["env"]}
    assert env["NODE_IP"] == "status.hostIP"


def test_calico_manifest() -> None:
    spec = make_spec(network={"cni": "calico", "podSubnet": "192.168.0.0/16", "interface": "ens192"})
    objects = _valid_objects(artifacts.cni_manifest(spec) or "")
    kinds = {o["kind"] for o in objects}
    assert {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "ConfigMap",
            "DaemonSet", "Deployment"} <= kinds
    crds = {o["metadata"]["name"] for o in objects if o["kind"] == "CustomResourceDefinition"}
    assert {"ippools.crd.projectcalico.org", "felixconfigurations.crd.projectcalico.org",
            "adminnetworkpolicies.policy.networking.k8s.io"} <= crds
    node = next(o for o in objects if o["kind"] == "DaemonSet")
    env = {e["name"]: e.get("value") for e in node["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["CALICO_IPV4POOL_CIDR"] == "192.168.0.0/16"
    assert env["IP_AUTODETECTION_METHOD"] == "interface=ens192"
    assert node["spec"]["template"]["spec"]["serviceAccountName"] == "calico-node"
    accounts = {o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"}
    assert {"calico-node", "calico-kube-controllers", "calico-cni-plugin"} <= accounts


def test_no_manifest_without_cni() -> None:
    assert artifacts.cni_manifest(make_spec(network={"cni": "none"})) is None


@pytest.mark.parametrize(("version", "layout", "section", "key"), [
    ("1.35.3", 2, ("plugins", "io.containerd.grpc.v1.cri"), "sandbox_image"),
    ("1.36.2", 3, ("plugins", "io.containerd.cri.v1.images", "pinned_images"), "sandbox"),
])
def test_containerd_config_layout(version: str, layout: int, section: tuple[str, ...], key: str) -> None:
    spec = make_spec({"version": version, "imageRepository": "registry.aliyuncs.com/google_containers"})
    config = tomllib.loads(artifacts.containerd_config(spec))
    assert config["version"] == layout
    table = config
    for part in section:
        table = table[part]
    assert table[key] == "registry.aliyuncs.com/google_containers/pause:3.10.1"
    runtime = "io.containerd.grpc.v1.cri" if layout == 2 else "io.containerd.cri.v1.runtime"
    options = config["plugins"][runtime]["containerd"]["runtimes"]["runc"]["options"]
    assert options == {"SystemdCgroup": True}


def test_docker_daemon_json() -> None:
    plain = json.loads(artifacts.docker_daemon_json(make_spec({"version": "1.23.6", "runtime": "docker",
                                                                "packageMirror": "aliyun-legacy"})))
    assert plain["exec-opts"] == ["native.cgroupdriver=systemd"]
    assert plain["registry-mirrors"]
    official = json.loads(artifacts.docker_daemon_json(make_spec({"version": "1.23.6", "runtime": "docker"})))
    assert "registry-mirrors" not in official and official["log-opts"]["max-size"]


def test_smoke_manifest() -> None:
    objects = _valid_objects(artifacts.smoke_manifest(make_spec()))
    assert [o["kind"] for o in objects] == ["Namespace", "Deployment", "Service"]
    assert objects[2]["spec"]["type"] == "NodePort"
    pod = objects[1]["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "docker.io/library/nginx:1.27-alpine"
    assert pod["tolerations"][0]["key"] == "node-role.kubernetes.io/control-plane"


def test_heredoc_refuses_its_delimiter() -> None:
    assert artifacts.heredoc("a") == "a\n"
    with pytest.raises(ValueError):
        artifacts.heredoc(f"x\n{artifacts.HEREDOC}\ny")


def test_api_server_endpoint_brackets_ipv6() -> None:
    assert artifacts.host_port("fd00::1") == "[fd00::1]:6443"
    assert artifacts.host_port("10.0.0.1") == "10.0.0.1:6443"


# --- the shell pieces, run for real in bash ---------------------------------------------------------

CONTAINERD_1 = """\
disabled_plugins = []
root = "/var/lib/containerd"
version = 2

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    device_ownership_from_security_context = false
    sandbox_image = "registry.k8s.io/pause:3.8"
    selinux_category_range = 1024

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          BinaryName = ""
          SystemdCgroup = false
"""
# containerd 2.x, here without a SystemdCgroup line: toml_set must add it to the right table.
CONTAINERD_2 = """\
version = 3
root = '/var/lib/containerd'

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'

    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = 'registry.k8s.io/pause:3.10'

  [plugins.'io.containerd.cri.v1.runtime']
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = ''
"""


def step_script(step_id: str, spec: ClusterSpec, node: str = "cp1", os_name: str = "ubuntu-22.04") -> str:
    plan = build_plan(spec, os_override=os_name)
    planned = plan.find(node, step_id)
    assert planned is not None, f"{step_id} not planned on {node}"
    return plan.render(planned)


def bash(tmp_path: Path, script: str, body: str) -> subprocess.CompletedProcess[str]:
    """Define the script's functions (everything but its `main "$@"` call) and run `body`."""
    head, _, _ = script.rpartition('main "$@"')
    harness = tmp_path / "harness.sh"
    harness.write_text(head + body + "\n")
    return subprocess.run(["bash", str(harness)], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, cwd=tmp_path, check=False)


@pytest.mark.parametrize(("sample", "layout"), [(CONTAINERD_1, 2), (CONTAINERD_2, 3)], ids=["1.x", "2.x"])
def test_containerd_script_sets_the_keys_of_the_layout(tmp_path: Path, sample: str, layout: int) -> None:
    script = step_script("containerd", make_spec({"version": "1.35.3"}))
    config = tmp_path / "config.toml"
    config.write_text(sample)
    pause = "registry.aliyuncs.com/google_containers/pause:3.10.1"
    body = f"""
layout=$(config_version < {config})
use_layout "$layout"
toml_set {config} "$SANDBOX_SECTION" "$SANDBOX_KEY" "${{QUOTE}}{pause}${{QUOTE}}"
toml_set {config} "$RUNC_SECTION" SystemdCgroup true
toml_set {config} "$RUNC_SECTION" SystemdCgroup true
echo "layout=$layout"
echo "sandbox=$(toml_get {config} "$SANDBOX_SECTION" "$SANDBOX_KEY")"
"""
    result = bash(tmp_path, script, body)
    assert result.returncode == 0, result.stderr
    assert f"layout={layout}" in result.stdout
    quote = '"' if layout == 2 else "'"
    assert f"sandbox={quote}{pause}{quote}" in result.stdout
    parsed = tomllib.loads(config.read_text())
    runtime = "io.containerd.grpc.v1.cri" if layout == 2 else "io.containerd.cri.v1.runtime"
    options = parsed["plugins"][runtime]["containerd"]["runtimes"]["runc"]["options"]
    assert options["SystemdCgroup"] is True
    assert config.read_text().count("SystemdCgroup") == 1
    if layout == 2:
        assert parsed["plugins"]["io.containerd.grpc.v1.cri"]["sandbox_image"] == pause
    else:
        assert parsed["plugins"]["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == pause
        assert "sandbox_image" not in config.read_text()


def test_containerd_toml_set_adds_a_missing_section(tmp_path: Path) -> None:
    script = step_script("containerd", make_spec({"version": "1.36.2"}))
    config = tmp_path / "config.toml"
    config.write_text("version = 3\n")
    body = f"""use_layout 3
toml_set {config} "$SANDBOX_SECTION" "$SANDBOX_KEY" "'r/pause:1'"
"""
    assert bash(tmp_path, script, body).returncode == 0
    assert tomllib.loads(config.read_text())["plugins"]["io.containerd.cri.v1.images"]["pinned_images"] == {
        "sandbox": "r/pause:1"}


def test_redact_masks_tokens_and_keys(tmp_path: Path) -> None:
    script = step_script("init", make_spec())
    body = """key=$(printf 'f%.0s' $(seq 64))
line='kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef'
printf '%s \\\\\\n --certificate-key %s\\n' "$line" "$key" | redact"""
    result = bash(tmp_path, script, body)
    assert result.returncode == 0, result.stderr
    assert "abcdef.0123456789abcdef" not in result.stdout and "ffff" not in result.stdout
    assert result.stdout.count("redacted") == 2


def _spki_sha256(cert_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


KEYS = [["-newkey", "rsa:2048"], ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]]
CA_PATH = "/etc/kubernetes/pki/ca.crt"


def make_ca(tmp_path: Path, keyopt: list[str]) -> Path:
    """A self-signed CA certificate like kubeadm's (RSA or ECDSA key)."""
    cert = tmp_path / "ca.crt"
    subprocess.run(["openssl", "req", "-x509", *keyopt, "-nodes", "-keyout", str(tmp_path / "ca.key"),
                    "-out", str(cert), "-subj", "/CN=kubernetes", "-days", "1"],
                   check=True, capture_output=True, timeout=60)
    return cert


@pytest.mark.parametrize("keyopt", KEYS, ids=["rsa", "ecdsa"])
def test_ca_hash_matches_the_spki_digest(tmp_path: Path, keyopt: list[str]) -> None:
    cert = make_ca(tmp_path, keyopt)
    script = step_script("init", make_spec()).replace(CA_PATH, str(cert))
    result = bash(tmp_path, script, "ca_hash")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == _spki_sha256(cert.read_bytes())


# --- whole step functions with stubbed tools (paths pointed into tmp_path) -----------------------------


def outputs_of(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        if line.startswith("::k8stui-output:: "):
            name, _, value = line.removeprefix("::k8stui-output:: ").partition("=")
            found[name] = value
    return found


CONTAINERD_STUBS = """
CONFIG={tmp}/etc/containerd/config.toml
CRICTL_CONFIG={tmp}/crictl.yaml
containerd() {{
  case "$1" in
    --version) echo "containerd containerd.io {version} 1c4457e00facac03ce1d75f7b6777a7a851e5c41" ;;
    config) cat {tmp}/default.toml ;;
  esac
}}
kubeadm() {{ printf '%s\\n' {repo}/kube-proxy:v1.36.2 {repo}/pause:3.10.1 {repo}/etcd:3.6.5-0; }}
systemctl() {{ echo "systemctl $*" >> {tmp}/calls; }}
svc_active() {{ grep -q restart {tmp}/calls 2>/dev/null; }}
install_containerd() {{ echo install-containerd >> {tmp}/calls; }}
"""


@pytest.mark.parametrize(("k8s", "containerd", "sample"), [
    ("1.35.3", "1.7.27", CONTAINERD_1), ("1.36.2", "v2.1.5", CONTAINERD_2), ("1.35.3", "2.0.0", CONTAINERD_2),
], ids=["1.35-containerd1", "1.36-containerd2", "1.35-containerd2"])
def test_containerd_apply_then_check(tmp_path: Path, k8s: str, containerd: str, sample: str) -> None:
    (tmp_path / "default.toml").write_text(sample)
    script = step_script("containerd", make_spec({"version": k8s, "imageRepository": ALI}))
    stubs = CONTAINERD_STUBS.format(tmp=tmp_path, version=containerd, repo=ALI)
    result = bash(tmp_path, script, stubs + "check && echo before-ok\napply\ncheck && echo after-ok\n")
    assert result.returncode == 0, result.stderr
    assert "before-ok" not in result.stdout and "after-ok" in result.stdout
    config = (tmp_path / "etc/containerd/config.toml").read_text()
    assert f"{ALI}/pause:3.10.1" in config and "SystemdCgroup = true" in config
    assert "systemctl restart containerd" in (tmp_path / "calls").read_text()
    crictl = (tmp_path / "crictl.yaml").read_text()
    assert "runtime-endpoint: unix:///var/run/containerd/containerd.sock" in crictl


def test_containerd_1_is_refused_for_kubernetes_1_36(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text(CONTAINERD_1)
    script = step_script("containerd", make_spec({"version": "1.36.2"}))
    stubs = CONTAINERD_STUBS.format(tmp=tmp_path, version="1.7.27", repo=ALI)
    result = bash(tmp_path, script, stubs + "apply\n")
    assert result.returncode == 1
    assert "needs containerd >= 2.0" in result.stderr
    assert "install-containerd" in (tmp_path / "calls").read_text()  # tried the repository first
    assert not (tmp_path / "etc").exists()


INIT_STUBS = """
INIT_CONFIG={tmp}/k8stui/kubeadm-init.yaml
kubeadm() {{
  case "$1 $2" in
    "token generate") echo "abcdef.0123456789abcdef" ;;
    "token create") printf '%s --discovery-token-ca-cert-hash sha256:%s \\n' \
        'kubeadm join 10.0.0.11:6443 --token uvwxyz.0123456789uvwxyz' "$(printf 'a%.0s' $(seq 64))" ;;
    "init phase") printf '[upload-certs] Storing the certificates\\n%s\\n%s\\n' \
        '[upload-certs] Using certificate key:' "$(printf 'b%.0s' $(seq 64))" ;;
    *) return 1 ;;
  esac
}}
"""


def test_init_writes_a_private_config_and_publishes_join_values(tmp_path: Path) -> None:
    cert = make_ca(tmp_path, KEYS[0])
    spec = make_spec({"version": "1.34.6", **HA, "tokenTTL": "2h"}, planes=2)
    script = step_script("init", spec).replace(CA_PATH, str(cert))
    result = bash(tmp_path, script, INIT_STUBS.format(tmp=tmp_path) + "write_init_config\npublish\n")
    assert result.returncode == 0, result.stderr
    written = tmp_path / "k8stui" / "kubeadm-init.yaml"
    assert written.stat().st_mode & 0o777 == 0o600 and written.parent.stat().st_mode & 0o777 == 0o700
    init = docs(written.read_text())["InitConfiguration"]
    assert init["bootstrapTokens"][0]["token"] == "abcdef.0123456789abcdef"
    found = outputs_of(result.stdout)
    assert found["join_command"] == ("kubeadm join 10.0.0.11:6443 --token uvwxyz.0123456789uvwxyz "
                                     "--discovery-token-ca-cert-hash sha256:" + "a" * 64)
    assert found["token"] == "uvwxyz.0123456789uvwxyz"
    assert found["ca_hash"] == _spki_sha256(cert.read_bytes())
    assert found["certificate_key"] == "b" * 64
    assert found["token_expires"].endswith("Z") and found["token_expires"][:2] == "20"


def test_init_without_endpoint_no_certificate_key_and_ttl_zero_never_expires(tmp_path: Path) -> None:
    cert = make_ca(tmp_path, KEYS[1])
    script = step_script("init", make_spec({"tokenTTL": "0"})).replace(CA_PATH, str(cert))
    result = bash(tmp_path, script, INIT_STUBS.format(tmp=tmp_path) + "publish\n")
    assert result.returncode == 0, result.stderr
    found = outputs_of(result.stdout)
    assert "certificate_key" not in found and found["token_expires"] == "never"
    assert "TOKEN_TTL=0s\n" in script and '--ttl "$TOKEN_TTL"' in script


SMOKE_STUBS = """
RESULT_FILE={tmp}/state/smoke.result
ADMIN_CONF={tmp}/admin.conf
touch "$ADMIN_CONF"
kc() {{
  case "$*" in
    *"get --raw /healthz"*) echo ok ;;
    *"get service nginx"*) echo 30080 ;;
    *"get nodes"*) printf 'cp1=True\\nw1=False\\n' ;;
    *"apply -f -"*) cat > {tmp}/applied.yaml ;;
  esac
}}
kc_wait() {{ echo "wait $*" >> {tmp}/calls; }}
wait_until() {{ shift; "$@"; }}
curl() {{ echo "curl $*" >> {tmp}/calls; return {curl_rc}; }}
"""


@pytest.mark.parametrize("curl_rc", [0, 7], ids=["passed", "failed"])
def test_smoke_result_is_published_either_way(tmp_path: Path, curl_rc: int) -> None:
    script = step_script("smoke", make_spec())
    stubs = SMOKE_STUBS.format(tmp=tmp_path, curl_rc=curl_rc)
    result = bash(tmp_path, script, stubs + "apply\ncheck && echo check-ok\npublish\n")
    found = outputs_of(result.stdout)
    assert found["node_status"] == "cp1=Ready,w1=NotReady"
    assert "http://10.0.0.11:30080/" in (tmp_path / "calls").read_text()
    assert "delete namespace k8stui-smoke" in (tmp_path / "calls").read_text()
    applied = [d["kind"] for d in yaml.safe_load_all((tmp_path / "applied.yaml").read_text()) if d]
    assert applied == ["Namespace", "Deployment", "Service"]
    if curl_rc == 0:
        assert result.returncode == 0 and "check-ok" in result.stdout, result.stderr
        assert found["smoke_result"] == "passed: nginx answered on http://10.0.0.11:30080/"
    else:
        assert result.returncode == 1 and "check-ok" not in result.stdout
        assert found["smoke_result"].startswith("failed: no answer from http://10.0.0.11:30080/")


def test_joining_control_plane_pins_a_named_endpoint_to_the_first_one(tmp_path: Path) -> None:
    spec = make_spec({"version": "1.35.3", **HA}, planes=2)
    script = step_script("join-control-plane", spec, node="cp2")
    hosts = tmp_path / "hosts"
    original = ("127.0.0.1 localhost\n# BEGIN k8stui\n10.0.0.12 cp2\n"
                "10.0.0.12 k8s-api.internal\n# END k8stui\n")
    hosts.write_text(original)
    body = f"""PIN_HOSTS={hosts}
pin_endpoint
grep -m1 ' k8s-api.internal$' {hosts}
unpin_endpoint
"""
    result = bash(tmp_path, script, body)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "10.0.0.11 k8s-api.internal"  # the first match wins in /etc/hosts
    assert hosts.read_text() == original
    assert "pin_endpoint" not in step_script("join", spec, node="w1")
    ip_endpoint = make_spec({"version": "1.35.3", "controlPlaneEndpoint": "10.0.0.100:6443"}, planes=2)
    assert "pin_endpoint" not in step_script("join-control-plane", ip_endpoint, node="cp2")
