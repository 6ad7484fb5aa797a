"""kubeadm join: preflight, token discovery over the lab network (cluster-info fetched without trust, its
JWS signature checked with the token, its CA checked against the pinned hash), TLS bootstrap with the
token (the API server registers the node), kubelet.conf, the kubelet; control planes need the
certificate key and receive the cluster CA."""

from __future__ import annotations

import base64
import hmac
import time
from typing import Any

from . import (
    apiserver,
    flags,
    images,
    kubeadm,
    kubeadm_checks,
    kubeadm_config,
    kubeadm_init,
    kubeclient,
    miniyaml,
    pki,
    state,
    systemd,
)

JOIN_FLAGS = {
    "--config",
    "--token",
    "--discovery-token",
    "--tls-bootstrap-token",
    "--discovery-token-ca-cert-hash",
    "--certificate-key",
    "--cri-socket",
    "--node-name",
    "--ignore-preflight-errors",
    "--v",
    "--apiserver-advertise-address",
    "--apiserver-bind-port",
}
JOINED = """
This node has joined the cluster:
* Certificate signing request was sent to apiserver and a response was received.
* The Kubelet was informed of the new secure connection details.

Run 'kubectl get nodes' on the control-plane to see this node join the cluster.
"""
DISCOVERY_LIMIT = 20.0  # seconds the lab retries discovery (kubeadm: discovery timeout, 5m by default)


def _settings(opts: dict[str, str], rest: list[str]) -> dict[str, Any]:
    if "--config" in opts:
        docs = kubeadm_config.load(opts["--config"], kubeadm.minor())
        if "JoinConfiguration" not in docs:
            state.fail("no JoinConfiguration found in the config file", 1)
        join = docs["JoinConfiguration"]
        boot = (join.get("discovery") or {}).get("bootstrapToken") or {}
        reg = join.get("nodeRegistration") or {}
        cp = join.get("controlPlane")
        return {
            "endpoint": boot.get("apiServerEndpoint"),
            "token": boot.get("token"),
            "hashes": boot.get("caCertHashes") or [],
            "unsafe": boot.get("unsafeSkipCAVerification", False),
            "cri": reg.get("criSocket"),
            "name": reg.get("name"),
            "kubelet_args": kubeadm_config.args_dict(reg.get("kubeletExtraArgs")),
            "control_plane": cp is not None,
            "advertise": ((cp or {}).get("localAPIEndpoint") or {}).get("advertiseAddress"),
            "certificate_key": (cp or {}).get("certificateKey"),
            "kubelet": docs.get("KubeletConfiguration", {}),
        }
    token = opts.get("--discovery-token") or opts.get("--token")
    return {
        "endpoint": rest[0] if rest else None,
        "token": token,
        "hashes": [h for h in opts.get("--discovery-token-ca-cert-hash", "").split(",") if h],
        "unsafe": False,
        "cri": opts.get("--cri-socket"),
        "name": opts.get("--node-name"),
        "kubelet_args": {},
        "control_plane": "--control-plane" in opts,
        "advertise": opts.get("--apiserver-advertise-address"),
        "certificate_key": opts.get("--certificate-key"),
        "kubelet": {},
    }


def _discover(cfg: dict[str, Any]) -> tuple[str, bytes]:
    """(server, CA PEM) from cluster-info, verified with the token's JWS and the pinned CA hash."""
    token_id, _, secret = str(cfg["token"]).partition(".")
    client = kubeclient.Client(f"https://{cfg['endpoint']}", None, timeout=5)
    print("[preflight] Running pre-flight checks")
    print(f'[discovery] Trying to connect to API Server "{cfg["endpoint"]}"')
    deadline, last = time.monotonic() + DISCOVERY_LIMIT, ""
    while time.monotonic() < deadline:
        try:
            info = client.request("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info")
            break
        except kubeclient.ApiError as exc:
            last = str(exc)
            time.sleep(1)
    else:
        state.fail(
            f"error execution phase preflight: couldn't validate the identity of the API Server: "
            f'Get "https://{cfg["endpoint"]}/api/v1/namespaces/kube-public/configmaps/cluster-info?'
            f'timeout=10s": {last}',
            1,
        )
    data = info["data"]
    signature = data.get(f"jws-kubeconfig-{token_id}")
    if not signature:
        state.fail(
            "error execution phase preflight: couldn't validate the identity of the API Server: could not "
            f'find a JWS signature in the cluster-info ConfigMap for token ID "{token_id}"',
            1,
        )
    if not hmac.compare_digest(signature, apiserver.jws(data["kubeconfig"], token_id, secret)):
        state.fail(
            "error execution phase preflight: couldn't validate the identity of the API Server: failed to "
            "verify JWS signature of received cluster info object, can't trust this API Server",
            1,
        )
    conf = miniyaml.load_all(data["kubeconfig"])[0]["clusters"][0]["cluster"]
    ca = base64.b64decode(conf["certificate-authority-data"])
    actual = pki.spki_hash(ca)
    if not cfg["unsafe"] and actual not in cfg["hashes"]:
        state.fail(
            "error execution phase preflight: couldn't validate the identity of the API Server: cluster CA "
            f'found in cluster-info ConfigMap is invalid: none of the public keys "{actual}" are pinned',
            1,
        )
    print(
        f"[discovery] Cluster info signature and contents are valid and TLS certificate validates against "
        f'pinned roots, will use API Server "{cfg["endpoint"]}"'
    )
    return str(conf["server"]), ca


def join(args: list[str]) -> int:
    opts, rest = flags.parse(
        args, JOIN_FLAGS, {"--control-plane", "--discovery-token-unsafe-skip-ca-verification"}
    )
    cfg = _settings(opts, rest)
    if not cfg["endpoint"] or not cfg["token"]:
        state.fail('discovery: Invalid value: "": bootstrapToken or file must be set', 1)
    if (
        not cfg["hashes"]
        and not cfg["unsafe"]
        and "--discovery-token-unsafe-skip-ca-verification" not in opts
    ):
        state.fail(
            'discovery.bootstrapToken: Invalid value: "": using token-based discovery without caCertHashes '
            "can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass "
            "--discovery-token-unsafe-skip-ca-verification flag to continue",
            1,
        )
    if cfg["control_plane"] and not cfg["certificate_key"]:
        state.fail(
            "error execution phase control-plane-prepare/download-certs: a certificate key is required to "
            "download the control-plane certificates (--certificate-key / controlPlane.certificateKey)",
            1,
        )
    name = str(cfg["name"] or state.node().get("hostname"))
    check = kubeadm_checks.Preflight([i for i in opts.get("--ignore-preflight-errors", "").split(",") if i])
    minor = kubeadm.minor()
    kubeadm_checks.system(check, minor, cfg["kubelet"], control_plane=cfg["control_plane"])
    cfg["cri"] = kubeadm_checks.cri_socket(cfg["cri"], minor)  # kubeadm-flags.env names it
    runtime = kubeadm_checks.runtime(check, cfg["cri"], minor)
    check.finish()
    server, ca = _discover(cfg)
    ip = cfg["kubelet_args"].get("node-ip") or state.node().get("ip")
    client = kubeclient.Client(server, ca, token=str(cfg["token"]))
    _check_sandbox(client, runtime, cfg["kubelet_args"], opts)
    body = {
        "name": name,
        "ip": ip,
        "controlPlane": cfg["control_plane"],
        "kubeletVersion": f"v{kubeadm.version()}",
        "certificateKey": cfg["certificate_key"],
    }
    try:
        reply = client.request("POST", "/lab/join", body)
    except kubeclient.ApiError as exc:
        prefix = "control-plane-prepare/download-certs" if exc.status == 403 else "kubelet-start"
        state.fail(f"error execution phase {prefix}: {exc}", 1)
    state.write(f"{pki.PKI}/ca.crt", ca.decode())
    if cfg["control_plane"]:
        _control_plane(cfg, reply, server, name, str(cfg["advertise"] or ip))
    state.write(
        "/etc/kubernetes/kubelet.conf",
        pki.kubeconfig(server, f"system:node:{name}", token=reply["credential"]),
        0o600,
    )
    kubeadm_init.write_kubelet_config(cfg["kubelet"], cfg["kubelet_args"], cfg["cri"])
    print('[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"')
    print("[kubelet-start] Starting the kubelet")
    systemd.enable("kubelet.service")
    systemd.start("kubelet.service")
    print("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap")
    if cfg["control_plane"]:
        _wait_local_api(str(cfg["advertise"] or ip))
    print(JOINED)
    return 0


def _check_sandbox(
    client: kubeclient.Client, runtime: str, kubelet_args: dict[str, str], opts: dict[str, str]
) -> None:
    """This node's sandbox image against the cluster's imageRepository (kubeadm-config, readable with the
    bootstrap token): the pause pitfall strands pods on workers as much as on control planes."""
    try:
        data = client.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config")["data"]
    except kubeclient.ApiError as exc:
        state.fail(f"error execution phase preflight: unable to fetch the kubeadm-config ConfigMap: {exc}", 1)
    conf = miniyaml.load_all(data["ClusterConfiguration"])[0]
    repository, version = str(conf["imageRepository"]), str(conf["kubernetesVersion"])
    pause = next(i for i in images.kubeadm_list(version, repository) if "/pause:" in i)
    check = kubeadm_checks.Preflight([i for i in opts.get("--ignore-preflight-errors", "").split(",") if i])
    kubeadm_checks.sandbox(check, runtime, repository, kubelet_args, pause)
    check.finish()


def _control_plane(
    cfg: dict[str, Any], reply: dict[str, Any], server: str, name: str, advertise: str
) -> None:
    """The downloaded certificates, this node's own API server (sharing the first one's store), admin.conf."""
    print(
        '[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" '
        "Namespace"
    )
    state.write(f"{pki.PKI}/ca.key", reply["ca_key"], 0o600)
    host = server.removeprefix("https://").rsplit(":", 1)[0]
    sans = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", name, "10.96.0.1", advertise, host]
    pki.issue("apiserver", "/CN=kube-apiserver", list(dict.fromkeys(sans)))
    group = (
        "kubeadm:cluster-admins" if int(reply["config"]["version"].split(".")[1]) >= 29 else "system:masters"
    )
    pki.issue("admin", f"/O={group}/CN=kubernetes-admin", client=True)
    state.write("/etc/kubernetes/admin.conf", pki.kubeconfig(server, "kubernetes-admin", cert="admin"), 0o600)
    kubeadm_init.write_manifests(
        reply["config"]["version"],
        reply["config"]["imageRepository"],
        [f"--advertise-address={advertise}", "--secure-port=6443", f"--etcd-servers={reply['store']}"],
    )


def _wait_local_api(advertise: str) -> None:
    """The kubelet runs the new static Pods: this node's API server must answer."""
    local = kubeclient.Client(f"https://{advertise}:6443", pki_ca(), timeout=5)
    if not kubeadm.wait_healthy(local, 15):
        state.fail(
            "error execution phase control-plane-join: the API server on this node did not become healthy:\n"
            + state.read_state("run", "kube-apiserver.log"),
            1,
        )
    print("[control-plane-join] The new control plane instance joined the cluster")


def pki_ca() -> bytes:
    with open(state.root(f"{pki.PKI}/ca.crt"), "rb") as f:
        return f.read()
