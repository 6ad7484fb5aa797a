"""The configuration files k8stui writes on nodes, rendered from templates with no network.

Step templates embed these (heredoc with a quoted delimiter) and `k8stui render` writes them
next to the scripts. Python decides *what* goes in (versions, SANs, endpoints); the
`kubeadm/`, `cni/` and `runtime/` templates say how it is laid out.
"""

from __future__ import annotations

import json

from k8stui.model import versions
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.versions import Version

# Replaced on the node by `kubeadm token generate`: the bootstrap token never appears in a script.
TOKEN_PLACEHOLDER = "__K8STUI_BOOTSTRAP_TOKEN__"
# Join configs rendered without init's outputs (offline `render`) carry these; the script refuses them.
MISSING_PREFIX = "__K8STUI_MISSING_"
API_PORT = 6443
HEREDOC = "K8STUI_EOF"
CONFIG_DIR = "/etc/kubernetes/k8stui"


def _render(template: str, **variables: object) -> str:
    # Imported here: render.py imports the step context, which exposes this module to templates.
    from k8stui.recipes.render import render

    return render(template, **variables)


def _version(spec: ClusterSpec) -> Version:
    return Version.parse(spec.kubernetes.version)


def _china(spec: ClusterSpec) -> bool:
    return versions.is_china_preset(spec.kubernetes.package_mirror, spec.kubernetes.image_repository)


def host_port(host: str, port: int = API_PORT) -> str:
    """`10.0.0.1:6443`, `[fd00::1]:6443`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def endpoint_host(spec: ClusterSpec) -> str | None:
    endpoint = spec.kubernetes.control_plane_endpoint
    return endpoint.rpartition(":")[0].strip("[]") if endpoint else None


def api_server_endpoint(spec: ClusterSpec) -> str:
    """Where joining nodes find the API server: the endpoint, else the first control plane."""
    if spec.kubernetes.control_plane_endpoint:
        return spec.kubernetes.control_plane_endpoint
    first = spec.first_control_plane
    if first is None or not first.node_ip:
        raise ValueError("no control-plane node with an IP address to join")
    return host_port(first.node_ip)


def cert_sans(spec: ClusterSpec) -> list[str]:
    """The endpoint host plus every control plane's SSH address that is not its node IP (NAT, EIP)."""
    sans: list[str] = []
    candidates = [endpoint_host(spec)] + [n.address for n in spec.control_planes if n.address != n.node_ip]
    for name in candidates:
        if name and name not in sans:
            sans.append(name)
    return sans


def kubelet_args(spec: ClusterSpec, node: NodeSpec) -> dict[str, str]:
    """kubelet flags set through kubeadm: node-ip always; the pause image for dockershim."""
    args = {"node-ip": node.node_ip or ""}
    version = _version(spec)
    if spec.kubernetes.runtime == "docker":
        args["pod-infra-container-image"] = versions.pause_image(version, spec.kubernetes.image_repository)
    return args


def _common(spec: ClusterSpec, node: NodeSpec) -> dict[str, object]:
    if not node.node_ip:
        raise ValueError(f"node {node.name} needs internalIP: its address {node.address!r} is not an IP")
    version = _version(spec)
    return {
        "spec": spec, "k8s": spec.kubernetes, "net": spec.network, "node": node, "v": version,
        "api_version": versions.kubeadm_api_version(version),
        "list_args": versions.list_style_extra_args(version),
        "cri_socket": versions.cri_socket(spec.kubernetes.runtime),
        "kubelet_args": kubelet_args(spec, node),
    }


def _first_cp(spec: ClusterSpec, node: NodeSpec | None) -> NodeSpec:
    node = node or spec.first_control_plane
    if node is None:
        raise ValueError("the cluster has no control-plane node")
    return node


def kubeadm_init_config(spec: ClusterSpec, node: NodeSpec | None = None) -> str:
    """The multi-document `kubeadm init --config` file for the first control plane.

    The bootstrap token is TOKEN_PLACEHOLDER: the init script swaps in a token generated on the node.
    """
    node = _first_cp(spec, node)
    version = _version(spec)
    return _render(
        "kubeadm/init.yaml.j2", **_common(spec, node),
        token=TOKEN_PLACEHOLDER, ttl=versions.kubeadm_duration(spec.kubernetes.token_ttl),
        cert_sans=cert_sans(spec),
        fail_cgroup_v1_off=not spec.kubernetes.fail_cgroup_v1 and versions.cgroup_v1_refused(version),
    )


def join_placeholders(outputs: dict[str, str], control_plane: bool) -> dict[str, str]:
    """init's outputs a join needs, with clearly marked placeholders for the missing ones."""
    names = ["token", "ca_hash"] + (["certificate_key"] if control_plane else [])
    return {n: outputs.get(n) or f"{MISSING_PREFIX}{n.upper()}__" for n in names}


def join_config(spec: ClusterSpec, node: NodeSpec, outputs: dict[str, str]) -> str:
    """`kubeadm join --config` for a worker or an extra control plane, from init's outputs."""
    values = join_placeholders(outputs, node.is_control_plane)
    ca_hash = values["ca_hash"]
    if not ca_hash.startswith(("sha256:", MISSING_PREFIX)):
        ca_hash = f"sha256:{ca_hash}"
    return _render(
        "kubeadm/join.yaml.j2", **_common(spec, node),
        endpoint=api_server_endpoint(spec), token=values["token"], ca_hash=ca_hash,
        certificate_key=values.get("certificate_key"),
    )


def cni_manifest(spec: ClusterSpec) -> str | None:
    """The CNI manifest k8stui applies (pinned versions, images per preset), or None for `cni: none`."""
    cni = spec.network.cni
    if cni == "none":
        return None
    china = _china(spec)
    if cni == "flannel":
        flannel, plugin = versions.flannel_images(china)
        return _render("cni/flannel.yaml.j2", net=spec.network, flannel_image=flannel, plugin_image=plugin,
                       version=versions.FLANNEL_VERSION, iface_by_node_ip=_split_addresses(spec))
    return _render("cni/calico.yaml.j2", net=spec.network, images=versions.calico_images(china),
                   version=versions.CALICO_VERSION, crds=CALICO_CRDS)


def _split_addresses(spec: ClusterSpec) -> bool:
    """Some node's internal IP differs from its SSH address (NAT'd or multi-NIC nodes).

    Flannel then must not guess the default-route NIC: it binds to the NIC holding the node IP
    (the kubelet's node-ip, which is what status.hostIP reports).
    """
    return any(n.internal_ip and n.internal_ip != n.address for n in spec.nodes)


# (group, version, plural, kind, scope) of the CRDs calico-node and kube-controllers watch: Calico's
# own and, since 3.28, the upstream (Baseline)AdminNetworkPolicy ones Felix also enforces.
_CALICO_GROUP = ("crd.projectcalico.org", "v1")
_ANP_GROUP = ("policy.networking.k8s.io", "v1alpha1")
CALICO_CRDS: tuple[tuple[str, str, str, str, str], ...] = (
    (*_CALICO_GROUP, "bgpconfigurations", "BGPConfiguration", "Cluster"),
    (*_CALICO_GROUP, "bgpfilters", "BGPFilter", "Cluster"),
    (*_CALICO_GROUP, "bgppeers", "BGPPeer", "Cluster"),
    (*_CALICO_GROUP, "blockaffinities", "BlockAffinity", "Cluster"),
    (*_CALICO_GROUP, "caliconodestatuses", "CalicoNodeStatus", "Cluster"),
    (*_CALICO_GROUP, "clusterinformations", "ClusterInformation", "Cluster"),
    (*_CALICO_GROUP, "felixconfigurations", "FelixConfiguration", "Cluster"),
    (*_CALICO_GROUP, "globalnetworkpolicies", "GlobalNetworkPolicy", "Cluster"),
    (*_CALICO_GROUP, "globalnetworksets", "GlobalNetworkSet", "Cluster"),
    (*_CALICO_GROUP, "hostendpoints", "HostEndpoint", "Cluster"),
    (*_CALICO_GROUP, "ipamblocks", "IPAMBlock", "Cluster"),
    (*_CALICO_GROUP, "ipamconfigs", "IPAMConfig", "Cluster"),
    (*_CALICO_GROUP, "ipamhandles", "IPAMHandle", "Cluster"),
    (*_CALICO_GROUP, "ippools", "IPPool", "Cluster"),
    (*_CALICO_GROUP, "ipreservations", "IPReservation", "Cluster"),
    (*_CALICO_GROUP, "kubecontrollersconfigurations", "KubeControllersConfiguration", "Cluster"),
    (*_CALICO_GROUP, "networkpolicies", "NetworkPolicy", "Namespaced"),
    (*_CALICO_GROUP, "networksets", "NetworkSet", "Namespaced"),
    (*_CALICO_GROUP, "tiers", "Tier", "Cluster"),
    (*_ANP_GROUP, "adminnetworkpolicies", "AdminNetworkPolicy", "Cluster"),
    (*_ANP_GROUP, "baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy", "Cluster"),
)


def containerd_config(spec: ClusterSpec) -> str:
    """What the containerd step makes of `containerd config default`: the keys it sets, per layout."""
    version = _version(spec)
    layout = versions.expected_containerd_config_version(version)
    return _render(
        "runtime/containerd-config.toml.j2", keys=versions.containerd_keys(layout),
        pause=versions.pause_image(version, spec.kubernetes.image_repository),
    )


def crictl_yaml() -> str:
    socket = versions.CONTAINERD_SOCKET
    return _render("runtime/crictl.yaml.j2", socket=socket, timeout=versions.CRICTL_TIMEOUT)


def docker_daemon_json(spec: ClusterSpec) -> str:
    """/etc/docker/daemon.json: systemd cgroup driver (kubelet uses systemd), bounded logs, mirrors."""
    return _render("runtime/daemon.json.j2", mirrors=versions.docker_registry_mirrors(_china(spec)))


def smoke_manifest(spec: ClusterSpec) -> str:
    return _render("smoke/nginx.yaml.j2", image=versions.smoke_image(_china(spec)),
                   taint_keys=versions.control_plane_taint_keys(_version(spec)))


def heredoc(text: str) -> str:
    """`text` for a `<<'K8STUI_EOF'` heredoc: refuse content that would end it early."""
    if any(line.strip() == HEREDOC for line in text.splitlines()):
        raise ValueError(f"content contains the heredoc delimiter {HEREDOC}")
    return text if text.endswith("\n") else text + "\n"


def as_json(value: object) -> str:
    return json.dumps(value)
