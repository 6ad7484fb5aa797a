"""kubeadm init: config checks and preflight, a real CA and certificates, kubeconfigs, the API server
process on the advertise address, the kubelet, and the output (with the join command) as kubeadm prints it."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from . import (
    apiserver,
    cluster,
    flags,
    images,
    kubeadm,
    kubeadm_checks,
    kubeadm_config,
    kubeclient,
    pki,
    state,
    systemd,
)

SUCCESS = """
Your Kubernetes control-plane has initialized successfully!

To start using your cluster, you need to run the following as a regular user:

  mkdir -p $HOME/.kube
  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config
  sudo chown $(id -u):$(id -g) $HOME/.kube/config

Alternatively, if you are the root user, you can run:

  export KUBECONFIG=/etc/kubernetes/admin.conf

You should now deploy a pod network to the cluster.
Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:
  https://kubernetes.io/docs/concepts/cluster-administration/addons/
"""
INIT_FLAGS = {
    "--config",
    "--ignore-preflight-errors",
    "--cri-socket",
    "--v",
    "--skip-phases",
    "--certificate-key",
    "--node-name",
}


def _settings(opts: dict[str, str]) -> dict[str, Any]:
    if "--config" not in opts:
        state.fail(
            "k8slab kubeadm model: init without --config is not modelled (k8stui always passes one)", 1
        )
    docs = kubeadm_config.load(opts["--config"], kubeadm.minor())
    if "JoinConfiguration" in docs:
        state.fail("invalid configuration: kind JoinConfiguration is not allowed for kubeadm init", 1)
    init, conf = docs.get("InitConfiguration", {}), docs.get("ClusterConfiguration", {})
    node_reg = init.get("nodeRegistration") or {}
    endpoint = init.get("localAPIEndpoint") or {}
    wanted = kubeadm_config.check_version_skew(
        str(conf.get("kubernetesVersion") or f"v{kubeadm.version()}"), kubeadm.version()
    )
    name = str(node_reg.get("name") or state.node().get("hostname", "node"))
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name):
        state.fail(
            f'nodeRegistration.name: Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of '
            "lower case alphanumeric characters, '-' or '.'",
            1,
        )
    tokens = [t["token"] for t in init.get("bootstrapTokens") or [] if t.get("token")]
    for token in tokens:
        if not re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", str(token)):
            state.fail(
                f'bootstrapTokens[0].token: Invalid value: "{token}": the bootstrap token is invalid', 1
            )
    return {
        "version": wanted,
        "name": name,
        "advertise": str(endpoint.get("advertiseAddress") or state.node().get("ip")),
        "port": int(endpoint.get("bindPort") or 6443),
        "cri": opts.get("--cri-socket") or node_reg.get("criSocket"),
        "kubelet_args": kubeadm_config.args_dict(node_reg.get("kubeletExtraArgs")),
        "taints": node_reg.get("taints"),
        "repository": conf.get("imageRepository")
        or ("registry.k8s.io" if int(wanted.split(".")[1]) >= 25 else "k8s.gcr.io"),
        "endpoint": conf.get("controlPlaneEndpoint"),
        "networking": conf.get("networking") or {},
        "sans": [str(s) for s in (conf.get("apiServer") or {}).get("certSANs") or []],
        "kubelet": docs.get("KubeletConfiguration", {}),
        "proxy": docs.get("KubeProxyConfiguration", {}),
        "tokens": [
            (str(t["token"]), str(t.get("ttl", "24h")))
            for t in init.get("bootstrapTokens") or []
            if t.get("token")
        ],
        "cluster_name": conf.get("clusterName", "kubernetes"),
    }


def _preflight(cfg: dict[str, Any], ignored: list[str]) -> str:
    print("[preflight] Running pre-flight checks")
    check = kubeadm_checks.Preflight(ignored)
    minor = int(cfg["version"].split(".")[1])
    kubeadm_checks.system(check, minor, cfg["kubelet"], control_plane=True)
    cfg["cri"] = kubeadm_checks.cri_socket(cfg["cri"], minor)  # kubeadm-flags.env names it
    runtime = kubeadm_checks.runtime(check, cfg["cri"], minor)
    listed = images.kubeadm_list(cfg["version"], cfg["repository"])
    if not check.errors:
        kubeadm_checks.sandbox(
            check, runtime, cfg["repository"], cfg["kubelet_args"], next(i for i in listed if "/pause:" in i)
        )
    check.finish()
    print("[preflight] Pulling images required for setting up a Kubernetes cluster")
    for image in listed:
        if not images.has(runtime, image):
            problem = images.pull_problem(image)
            if problem:
                state.fail(
                    f"error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR "
                    f"ImagePull]: failed to pull image {image}: {problem}",
                    1,
                )
            images.pull(runtime, image)
    return runtime


def _certificates(cfg: dict[str, Any]) -> None:
    print('[certs] Generating "ca" certificate and key')
    pki.make_ca()
    host = (cfg["endpoint"] or "").rsplit(":", 1)[0]
    sans = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        cfg["name"],
        "10.96.0.1",
        cfg["advertise"],
        *cfg["sans"],
        *([host] if host else []),
    ]
    print(f"[certs] apiserver serving cert is signed for DNS names and IPs [{' '.join(dict.fromkeys(sans))}]")
    pki.issue("apiserver", "/CN=kube-apiserver", list(dict.fromkeys(sans)))
    group = "kubeadm:cluster-admins" if int(cfg["version"].split(".")[1]) >= 29 else "system:masters"
    pki.issue("admin", f"/O={group}/CN=kubernetes-admin", client=True)


def _kubelet_files(cfg: dict[str, Any], server: str, credential: str) -> None:
    state.write(
        "/etc/kubernetes/kubelet.conf",
        pki.kubeconfig(server, f"system:node:{cfg['name']}", token=credential),
        0o600,
    )
    write_kubelet_config(cfg["kubelet"], cfg["kubelet_args"], cfg["cri"])


def write_kubelet_config(kubelet: dict[str, Any], args: dict[str, str], cri: str | None) -> None:
    lines = [
        "apiVersion: kubelet.config.k8s.io/v1beta1",
        "kind: KubeletConfiguration",
        f"cgroupDriver: {kubelet.get('cgroupDriver', 'systemd')}",
    ]
    for key in ("failSwapOn", "failCgroupV1"):
        if key in kubelet:
            lines.append(f"{key}: {str(kubelet[key]).lower()}")
    state.write("/var/lib/kubelet/config.yaml", "\n".join(lines) + "\n")
    flag_words = [f"--{k}={v}" for k, v in args.items()]
    if cri and "dockershim" not in cri:
        flag_words.insert(0, f"--container-runtime-endpoint={cri}")
    state.write("/var/lib/kubelet/kubeadm-flags.env", f'KUBELET_KUBEADM_ARGS="{" ".join(flag_words)}"\n')


def _manifests(cfg: dict[str, Any]) -> None:
    write_manifests(
        cfg["version"],
        cfg["repository"],
        [f"--advertise-address={cfg['advertise']}", f"--secure-port={cfg['port']}"],
    )


def write_manifests(version: str, repository: str, apiserver_args: list[str]) -> None:
    """Static Pod manifests of the control plane (the kubelet runs the API server from its command) and
    the containers crictl shows for them."""
    listed = images.kubeadm_list(version, repository)
    for image in listed:
        name = image.rsplit("/", 1)[1].split(":")[0]
        if name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
            command = "".join(
                f"    - {a}\n" for a in ([name, *apiserver_args] if name == "kube-apiserver" else [name])
            )
            state.write(
                f"/etc/kubernetes/manifests/{name}.yaml",
                f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-system\n"
                f"spec:\n  containers:\n  - name: {name}\n    image: {image}\n    command:\n{command}",
                0o600,
            )
    rows = [
        {
            "id": hashlib.sha256(i.encode()).hexdigest()[:13],
            "image": i.rsplit("/", 1)[1],
            "state": "Running",
            "name": i.rsplit("/", 1)[1].split(":")[0],
        }
        for i in listed
        if "pause" not in i and "coredns" not in i
    ]
    state.save("runtime/containers.json", rows)


def _cluster_state(cfg: dict[str, Any], runtime: str, server: str) -> tuple[dict[str, Any], str]:
    config = {
        "version": cfg["version"],
        "podSubnet": cfg["networking"].get("podSubnet", ""),
        "serviceSubnet": cfg["networking"].get("serviceSubnet", "10.96.0.0/12"),
        "imageRepository": cfg["repository"],
        "runtime": runtime,
        "server": server,
        "proxyMode": cfg["proxy"].get("mode", "iptables"),
        "ca_b64": pki.b64(f"{pki.PKI}/ca.crt"),
        "store": f"https://{cfg['advertise']}:{cfg['port']}",  # the API server owning the state ("etcd")
    }
    st = cluster.new(config)
    for token, ttl in cfg["tokens"]:
        cluster.add_token(st, kubeadm._duration(ttl) if ttl not in ("0", "0s") else 0, "bootstrap", token)
    cluster.register(st, cfg["name"], cfg["advertise"], True, cfg["version"], taint=cfg["taints"] != [])
    return st, st["nodes"][cfg["name"]]["credential"]


def init(args: list[str]) -> int:
    opts, _ = flags.parse(args, INIT_FLAGS, {"--upload-certs", "--skip-token-print", "--dry-run"})
    cfg = _settings(opts)
    print(f"[init] Using Kubernetes version: {cfg['version']}")
    ignored = [i for i in opts.get("--ignore-preflight-errors", "").split(",") if i]
    runtime = _preflight(cfg, ignored)
    _certificates(cfg)
    endpoint = cfg["endpoint"] or f"{cfg['advertise']}:{cfg['port']}"
    server = f"https://{endpoint}"
    state.write(
        "/etc/kubernetes/admin.conf",
        pki.kubeconfig(server, "kubernetes-admin", cert="admin", cluster=cfg["cluster_name"]),
        0o600,
    )
    print('[kubeconfig] Writing "admin.conf" kubeconfig file')
    st, credential = _cluster_state(cfg, runtime, server)
    certificate_key = cluster.upload_certs(st) if "--upload-certs" in opts else None
    state.save(apiserver.STATE_FILE, st)
    _kubelet_files(cfg, server, credential)
    print('[kubeconfig] Writing "kubelet.conf" kubeconfig file')
    _manifests(cfg)
    print('[control-plane] Creating static Pod manifests in "/etc/kubernetes/manifests"')
    print("[kubelet-start] Starting the kubelet")  # which runs the static Pods: the API server
    systemd.enable("kubelet.service")
    systemd.start("kubelet.service")
    print(
        "[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from "
        'directory "/etc/kubernetes/manifests"'
    )
    if not kubeadm.wait_healthy(kubeclient.from_kubeconfig("/etc/kubernetes/admin.conf"), 15):
        log = state.read_state("run", "kube-apiserver.log")
        state.fail(
            f"error execution phase wait-control-plane: the API server did not become healthy:\n{log}", 1
        )
    print(f"[api-check] The API server is healthy after {0.4:.1f}s")
    if certificate_key:
        print(
            '[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace'
        )
        print(f"[upload-certs] Using certificate key:\n{certificate_key}")
    _print_success(cfg, endpoint, st, certificate_key)
    return 0


def _print_success(cfg: dict[str, Any], endpoint: str, st: dict[str, Any], key: str | None) -> None:
    ca_hash = pki.ca_hash()
    token = cfg["tokens"][0][0]
    join = f"kubeadm join {endpoint} --token {token} \\\n\t--discovery-token-ca-cert-hash {ca_hash} "
    print(SUCCESS)
    if cfg["endpoint"]:
        print(
            "You can now join any number of control-plane nodes running the following command on each as "
            "root:\n"
        )
        print(f"  {join}\\\n\t--control-plane --certificate-key {key or '<key>'}\n")
    print("Then you can join any number of worker nodes by running the following on each as root:\n")
    print(f"{join}")
    state.journal("kubelet.service", f"kubelet: node {cfg['name']} registered ({cfg['advertise']})")
