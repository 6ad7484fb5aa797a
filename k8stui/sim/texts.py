"""SIMULATION: canned, realistic output for each recipe step, success and failure.

The lines imitate what apt/dnf, modprobe, containerd and kubeadm print on a real node so that the
log views, the tail of a failure and the progress markers can be exercised without a machine.
They are examples, not a record of any particular run.
"""

from __future__ import annotations

from collections.abc import Callable

from k8stui.model import versions
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import OsInfo
from k8stui.model.versions import Version

BANNER = "[k8stui-sim] SIMULATED node {name}: no real machine, nothing is installed"
PHASE_LINES_DEFAULT = ["[k8stui] {step}: done"]


def api_server(spec: ClusterSpec) -> str:
    """`host:port` of the API server as joins see it (the LB endpoint when one is set)."""
    if spec.kubernetes.control_plane_endpoint:
        return spec.kubernetes.control_plane_endpoint
    first = spec.first_control_plane
    return f"{first.node_ip if first else '127.0.0.1'}:6443"


def containerd_version(version: Version) -> str:
    return "2.1.4" if versions.needs_containerd_2(version) else "1.7.27"


def _install(os: OsInfo, packages: list[str], version_of: Callable[[str], str]) -> list[str]:
    """What installing `packages` prints with this OS's package manager."""
    if os.family == "el":
        lines = [f"Last metadata expiration check: 0:00:41 ago on {os} mirror.", "Dependencies resolved."]
        lines += [f"Installing       : {p}-{version_of(p)}.x86_64    {i + 1}/{len(packages)}"
                  for i, p in enumerate(packages)]
        return [*lines, "Complete!"]
    lines = ["Reading package lists...", "Building dependency tree...", "Reading state information..."]
    lines += [f"Get:{i + 1} {p} amd64 {version_of(p)} [{(i + 3) * 1791} kB]" for i, p in enumerate(packages)]
    lines += [f"Setting up {p} ({version_of(p)}) ..." for p in packages]
    return lines


def _kube_packages(spec: ClusterSpec, os: OsInfo) -> list[str]:
    v = spec.kubernetes.version
    revision = "1.1" if os.family == "debian" else "150500.1.1"
    kube = ("kubelet", "kubectl", "kubeadm")
    lines = _install(os, ["cri-tools", "kubernetes-cni", *kube],
                     lambda p: f"{v}-{revision}" if p in kube else "1.7.1")
    hold = "apt-mark hold" if os.family == "debian" else "versionlock"
    return [*lines, f"kubelet set on hold ({hold}).", "kubeadm set on hold.", "kubectl set on hold."]


def _containerd(spec: ClusterSpec, os: OsInfo) -> list[str]:
    version = Version.parse(spec.kubernetes.version)
    cv = containerd_version(version)
    pause = versions.pause_image(version, spec.kubernetes.image_repository)
    lines = _install(os, ["containerd.io"], lambda _p: f"{cv}-1")
    return [
        *lines,
        f"[k8stui] containerd {cv}: writing /etc/containerd/config.toml (SystemdCgroup = true)",
        f"[k8stui] sandbox image: {pause}",
        "Created symlink /etc/systemd/system/multi-user.target.wants/containerd.service.",
        "[k8stui] containerd is active",
    ]


def _images(spec: ClusterSpec, _os: OsInfo) -> list[str]:
    version = Version.parse(spec.kubernetes.version)
    images = versions.images(version, spec.kubernetes.image_repository)
    return [f"[config/images] Pulled {image}" for image in images]


def _kernel(_spec: ClusterSpec, _os: OsInfo) -> list[str]:
    return [
        "modprobe overlay", "modprobe br_netfilter",
        "* Applying /etc/sysctl.d/k8s.conf ...",
        "net.bridge.bridge-nf-call-iptables = 1", "net.bridge.bridge-nf-call-ip6tables = 1",
        "net.ipv4.ip_forward = 1",
    ]


def _kube_repo(spec: ClusterSpec, os: OsInfo) -> list[str]:
    version = Version.parse(spec.kubernetes.version)
    if os.family == "el":
        repo = versions.yum_repo(spec.kubernetes.package_mirror, version)
        return [f"[k8stui] writing /etc/yum.repos.d/kubernetes.repo (baseurl={repo.baseurl})",
                "Kubernetes    12 kB/s | 9.4 kB     00:00", "Metadata cache created."]
    repo = versions.apt_repo(spec.kubernetes.package_mirror, version)
    return [f"[k8stui] fetching {repo.key_url}",
            "[k8stui] writing /etc/apt/sources.list.d/kubernetes.list",
            f"Get:1 {repo.source_line.split()[0]} InRelease [1,192 B]",
            "Reading package lists..."]


def _init(spec: ClusterSpec, _os: OsInfo) -> list[str]:
    v = Version.parse(spec.kubernetes.version).v
    return [
        f"[init] Using Kubernetes version: {v}",
        "[preflight] Running pre-flight checks",
        "[preflight] Pulling images required for setting up a Kubernetes cluster",
        "[certs] Using certificateDir folder \"/etc/kubernetes/pki\"",
        "[certs] Generating \"ca\" certificate and key",
        "[certs] Generating \"apiserver\" certificate and key",
        "[kubeconfig] Writing \"admin.conf\" kubeconfig file",
        "[etcd] Creating static Pod manifest for local etcd in \"/etc/kubernetes/manifests\"",
        "[control-plane] Creating static Pod manifest for \"kube-apiserver\"",
        "[kubelet-start] Starting the kubelet",
        "[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods",
        "[api-check] The API server is healthy after 6.502169848s",
        "[upload-config] Storing the configuration used in ConfigMap \"kubeadm-config\"",
        "[mark-control-plane] Marking the node as control-plane",
        "[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node client "
        "certificates in the cluster",
        "[addons] Applied essential addon: CoreDNS",
        "[addons] Applied essential addon: kube-proxy",
    ]


def _join(spec: ClusterSpec, _os: OsInfo) -> list[str]:
    return [
        "[preflight] Running pre-flight checks",
        "[preflight] Reading configuration from the cluster...",
        "[kubelet-start] Writing kubelet configuration to file \"/var/lib/kubelet/config.yaml\"",
        "[kubelet-start] Starting the kubelet",
        "[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. "
        "This can take up to 4m0s",
        "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap",
        "",
        "This node has joined the cluster:",
        "* Certificate signing request was sent to apiserver and a response was received.",
        "* The Kubelet was informed of the new secure connection details.",
    ]


def _cni(spec: ClusterSpec, _os: OsInfo) -> list[str]:
    if spec.network.cni == "calico":
        return ["installation.operator.tigera.io/default created", "daemonset.apps/calico-node created"]
    return ["namespace/kube-flannel created", "configmap/kube-flannel-cfg created",
            "daemonset.apps/kube-flannel-ds created",
            f"[k8stui] flannel Network {spec.network.pod_subnet} (= podSubnet)"]


_STEP_LINES: dict[str, Callable[[ClusterSpec, OsInfo], list[str]]] = {
    "kernel": _kernel, "kube-repo": _kube_repo, "kube-packages": _kube_packages,
    "containerd": _containerd, "images": _images, "init": _init, "join": _join,
    "join-control-plane": _join, "cni": _cni,
}
_SIMPLE: dict[str, list[str]] = {
    "facts": ["[k8stui] reading /etc/os-release, /proc/meminfo, /sys/class/dmi/id/product_uuid"],
    "hostname": ["[k8stui] hostnamectl set-hostname {name}", "[k8stui] /etc/hosts: added cluster nodes"],
    "timesync": ["Created symlink /etc/systemd/system/multi-user.target.wants/chrony.service.",
                 "200 OK", "[k8stui] chrony: 4 sources, synchronised"],
    "firewall": ["Firewall stopped and disabled on system startup"],
    "selinux": ["[k8stui] setenforce 0; SELINUX=permissive in /etc/selinux/config"],
    "swap": ["[k8stui] swapoff -a", "[k8stui] /etc/fstab: commented out swap entries"],
    "ipvs": ["modprobe ip_vs", "modprobe ip_vs_rr", "modprobe ip_vs_wrr", "modprobe ip_vs_sh",
             "modprobe nf_conntrack"],
    "docker": ["Setting up docker-ce (5:20.10.7~3-0) ...",
               "[k8stui] daemon.json: native.cgroupdriver=systemd"],
    "endpoint-probe": ["nc: connect to {endpoint} failed: Connection refused (expected before init)"],
    "kubeconfig": ["[k8stui] copied /etc/kubernetes/admin.conf to /root/.kube/config"],
    "untaint": ["node/{name} untainted"],
    "fetch-kubeconfig": ["[k8stui] reading /etc/kubernetes/admin.conf"],
    "smoke": ["deployment.apps/k8stui-smoke created", "service/k8stui-smoke exposed",
              "deployment \"k8stui-smoke\" successfully rolled out",
              "[k8stui] curl http://{ip}:30080/ -> 200 OK", "deployment.apps \"k8stui-smoke\" deleted"],
}


def step_lines(step: str, spec: ClusterSpec, node: NodeSpec, os: OsInfo) -> list[str]:
    """The human output of a successful apply of `step` on `node`."""
    make = _STEP_LINES.get(step)
    lines = make(spec, os) if make else _SIMPLE.get(step, PHASE_LINES_DEFAULT)
    values = {"name": node.name, "ip": node.node_ip or "", "endpoint": api_server(spec), "step": step}
    return [line.format(**values) if "{" in line else line for line in lines]


def filler_line(step: str, number: int, os: OsInfo) -> str:
    """Extra lines for a high output rate (`lines_per_second`), in a package manager's voice."""
    if os.family == "el":
        return f"  Verifying        : {step}-dependency-{number}.x86_64    {number}/{number + 7}"
    size = number % 900 + 12
    return f"Get:{number} http://archive.ubuntu.com/ubuntu jammy/main amd64 {step}-dep{number} [{size} kB]"


def failure_lines(step: str, spec: ClusterSpec, node: NodeSpec, os: OsInfo) -> list[str]:
    """What a failing `step` prints on stderr (the realistic error a fault stands for)."""
    server = api_server(spec)
    if step == "containerd":
        # A mirror that drops the download half-way: the kind of failure a retry fixes.
        if os.family == "el":
            return ["Error: Failed to download packages: containerd.io: Cannot download, "
                    "all mirrors were already tried without success"]
        return ["E: Failed to fetch containerd.io  503  Service Unavailable [IP: 203.0.113.80 443]",
                "E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?"]
    if step == "kube-packages":
        return [f"E: Version '{spec.kubernetes.version}-1.1' for 'kubeadm' was not found"]
    if step == "kube-repo":
        return ["curl: (22) The requested URL returned error: 403",
                "gpg: no valid OpenPGP data found."]
    if step in ("join", "join-control-plane"):
        return [f"error execution phase preflight: couldn't validate the identity of the API Server: "
                f"Get \"https://{server}/api/v1/namespaces/kube-public/configmaps/cluster-info"
                "?timeout=10s\": "
                f"dial tcp {server}: connect: connection refused",
                "To see the stack trace of this error execute with --v=5 or higher"]
    if step == "init":
        return ["[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods",
                "[kubelet-check] The kubelet is not healthy after 4m0.000471s",
                "error execution phase wait-control-plane: could not initialize a Kubernetes cluster",
                "To see the stack trace of this error execute with --v=5 or higher"]
    return [f"[k8stui] error: {step} failed on {node.name} (exit status 1)"]


def join_block(spec: ClusterSpec, token: str, ca_hash: str, certificate_key: str | None) -> list[str]:
    """The tail of `kubeadm init`: the join commands, in kubeadm's exact layout (facts sheet §4)."""
    server = api_server(spec)
    join = [f"kubeadm join {server} --token {token} \\", f"\t--discovery-token-ca-cert-hash {ca_hash}"]
    lines = ["", "Your Kubernetes control-plane has initialized successfully!", "",
             "To start using your cluster, you need to run the following as a regular user:", "",
             "  mkdir -p $HOME/.kube", "  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config",
             "  sudo chown $(id -u):$(id -g) $HOME/.kube/config", ""]
    if certificate_key:
        lines += ["You can now join any number of the control-plane node running the following command "
                  "on each as root:", "", "  " + join[0], join[1] + " \\",
                  f"\t--control-plane --certificate-key {certificate_key}", "",
                  "Please note that the certificate-key gives access to cluster sensitive data, "
                  "keep it secret!",
                  ""]
    return [*lines, "Then you can join any number of worker nodes by running the following on each as root:",
            "", *join]
