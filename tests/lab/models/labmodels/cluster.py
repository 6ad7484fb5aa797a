"""The cluster's API state, owned by the API server process on the first control plane (apiserver.py):
nodes, bootstrap tokens, uploaded certificates and applied objects, with the validation the lab needs.

Pure functions over one JSON-able dict; the server serialises access and persists it.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import time
from typing import Any

from . import images

HEARTBEAT_GRACE = 15.0  # a node whose kubelet agent has not reported for this long is NotReady
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Node"}
BUILTIN = {
    ("v1", "Namespace"),
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "Secret"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
    ("policy/v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
}
PLURAL = {
    "DaemonSet": "daemonsets.apps",
    "Deployment": "deployments.apps",
    "Namespace": "namespaces",
    "Service": "services",
    "ConfigMap": "configmaps",
    "Pod": "pods",
    "Node": "nodes",
}
CNI_DAEMONSETS = {("kube-flannel", "kube-flannel-ds"): "flannel", ("kube-system", "calico-node"): "calico"}
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class Invalid(Exception):
    """A request the API server refuses (status, message as kubectl prints it)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def new(config: dict[str, Any]) -> dict[str, Any]:
    objects = {
        key("Namespace", "", ns): {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        for ns in DEFAULT_NAMESPACES
    }
    return {
        "config": config,
        "nodes": {},
        "tokens": {},
        "certificate_key": None,
        "objects": objects,
        "cni": None,
        "created": {},
    }


def key(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


# --- tokens and joins ----------------------------------------------------------------------------


def add_token(st: dict[str, Any], ttl: float, description: str = "", token: str | None = None) -> str:
    token = token or f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
    token_id, _, secret = token.partition(".")
    st["tokens"][token_id] = {
        "secret": secret,
        "expires": time.time() + ttl if ttl else 0,
        "description": description,
    }
    return token


def token_secret(st: dict[str, Any], token_id: str) -> str | None:
    entry = st["tokens"].get(token_id)
    if entry is None or (entry["expires"] and entry["expires"] < time.time()):
        return None
    return str(entry["secret"])


def valid_token(st: dict[str, Any], token: str) -> bool:
    token_id, _, secret = token.partition(".")
    return token_secret(st, token_id) == secret and bool(secret)


def upload_certs(st: dict[str, Any]) -> str:
    st["certificate_key"] = {"key": secrets.token_hex(32), "expires": time.time() + 7200}
    return str(st["certificate_key"]["key"])


def join(st: dict[str, Any], body: dict[str, Any]) -> str:
    name = str(body["name"])
    if name in st["nodes"] and st["nodes"][name]["ip"] != body["ip"]:
        raise Invalid(
            f'a Node with name "{name}" and status "Ready" already exists in the cluster. You must '
            "delete the existing Node or change the name of this new joining Node",
            409,
        )
    if body.get("controlPlane"):
        cert = st.get("certificate_key") or {}
        if cert.get("key") != body.get("certificateKey") or cert.get("expires", 0) < time.time():
            raise Invalid(
                'error downloading the secret: Secret "kubeadm-certs" was not found in the '
                '"kube-system" Namespace. This Secret might have expired. Please, run `kubeadm init '
                "phase upload-certs --upload-certs` on a control plane to generate a new one",
                403,
            )
    register(
        st,
        name,
        str(body["ip"]),
        bool(body.get("controlPlane")),
        str(body["kubeletVersion"]),
        taint=bool(body.get("controlPlane")),
    )
    return str(st["nodes"][name]["credential"])


def register(st: dict[str, Any], name: str, ip: str, control_plane: bool, version: str, taint: bool) -> None:
    minor = int(version.split(".")[1])
    taints = []
    if taint:
        taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
        if minor <= 24:
            taints.insert(0, {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"})
        if minor < 20:
            taints = taints[:1]
    st["nodes"][name] = {
        "ip": ip,
        "control_plane": control_plane,
        "version": version,
        "taints": taints,
        "credential": secrets.token_hex(16),
        "heartbeat": time.time(),
        "joined": time.time(),
    }


def heartbeat(st: dict[str, Any], name: str, runtime: bool = True) -> None:
    if name in st["nodes"]:
        st["nodes"][name].update(heartbeat=time.time(), runtime=runtime)


def node_for_credential(st: dict[str, Any], credential: str) -> str | None:
    return next((n for n, v in st["nodes"].items() if v["credential"] == credential), None)


# --- nodes ---------------------------------------------------------------------------------------


def ready(st: dict[str, Any], name: str) -> tuple[bool, str]:
    node = st["nodes"][name]
    if time.time() - node["heartbeat"] > HEARTBEAT_GRACE:
        return False, "Kubelet stopped posting node status."
    if not node.get("runtime", True):
        return False, "container runtime is down"
    if st["cni"] is None or st.get("cni_problem"):
        return False, (
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
            "message:Network plugin returns error: cni plugin not initialized"
        )
    return True, "kubelet is posting ready status"


def node_object(st: dict[str, Any], name: str) -> dict[str, Any]:
    node = st["nodes"][name]
    is_ready, message = ready(st, name)
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    if node["control_plane"]:
        labels["node-role.kubernetes.io/control-plane"] = ""
    spec: dict[str, Any] = {"podCIDR": node.get("pod_cidr", "")} if node.get("pod_cidr") else {}
    if node["taints"]:
        spec["taints"] = node["taints"]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": node["ip"]},
                {"type": "Hostname", "address": name},
            ],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if is_ready else "False",
                    "message": message,
                    "reason": "KubeletReady" if is_ready else "KubeletNotReady",
                }
            ],
            "nodeInfo": {
                "kubeletVersion": node["version"],
                "osImage": "k8slab",
                "containerRuntimeVersion": st["config"].get("runtime", "containerd"),
            },
        },
    }


def remove_taint(st: dict[str, Any], taint_key: str) -> list[str]:
    changed = []
    for name, node in st["nodes"].items():
        kept = [t for t in node["taints"] if t["key"] != taint_key]
        if len(kept) != len(node["taints"]):
            node["taints"] = kept
            changed.append(f"node/{name} untainted")
    if not changed:
        raise Invalid(f'taint "{taint_key}" not found', 404)
    return changed


# --- objects -------------------------------------------------------------------------------------


def apply(st: dict[str, Any], objects: list[dict[str, Any]], source: str) -> list[str]:
    """Validate every object first (nothing changes on an error), then store them."""
    kinds = {(o["apiVersion"], o["kind"]) for o in _crds(st, objects)}
    staged, namespaces = [], {k.split("/")[2] for k in st["objects"] if k.startswith("Namespace/")}
    for obj in objects:
        api, kind, meta = obj.get("apiVersion"), obj.get("kind"), obj.get("metadata") or {}
        if not api or not kind or not meta.get("name"):
            raise Invalid(
                f'error validating "{source}": error validating data: apiVersion, kind and '
                "metadata.name must be set",
                400,
            )
        if (api, kind) not in BUILTIN and (api, kind) not in kinds:
            raise Invalid(
                f'resource mapping not found for name: "{meta["name"]}" namespace: '
                f'"{meta.get("namespace", "")}" from "{source}": no matches for kind "{kind}" in '
                f'version "{api}"\nensure CRDs are installed first',
                400,
            )
        namespace = "" if kind in CLUSTER_SCOPED else meta.get("namespace", "default")
        if kind == "Namespace":
            namespaces.add(meta["name"])
        elif namespace and namespace not in namespaces:
            raise Invalid(
                f'Error from server (NotFound): error when creating "{source}": namespaces '
                f'"{namespace}" not found',
                404,
            )
        _validate(st, obj, source)
        staged.append((key(kind, namespace, meta["name"]), obj))
    out = []
    for k, obj in staged:
        verb = (
            "unchanged"
            if st["objects"].get(k) == obj
            else ("configured" if k in st["objects"] else "created")
        )
        st["objects"][k] = obj
        st["created"].setdefault(k, time.time())
        kind, _, name = k.partition("/")[0], None, k.rsplit("/", 1)[1]
        out.append(f"{_resource(obj)}/{name} {verb}")
        cni = CNI_DAEMONSETS.get((k.split("/")[1], name)) if kind == "DaemonSet" else None
        if cni:
            st["cni"] = cni
            st["cni_problem"] = images.pod_problem(obj)  # pods in ImagePullBackOff: no node gets Ready
        if obj["kind"] == "Service":
            _allocate_node_ports(st, obj)
    return out


def _resource(obj: dict[str, Any]) -> str:
    group = obj["apiVersion"].rpartition("/")[0]
    return obj["kind"].lower() + (f".{group}" if group else "")


def _crds(st: dict[str, Any], objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    crds = [o for o in objects if o.get("kind") == "CustomResourceDefinition"]
    crds += [o for k, o in st["objects"].items() if k.startswith("CustomResourceDefinition/")]
    return [
        {"apiVersion": f"{c['spec']['group']}/{v['name']}", "kind": c["spec"]["names"]["kind"]}
        for c in crds
        for v in c["spec"].get("versions", [])
    ]


def _validate(st: dict[str, Any], obj: dict[str, Any], source: str) -> None:
    kind, name = obj["kind"], obj["metadata"]["name"]
    if kind in ("Deployment", "DaemonSet"):
        spec = obj.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            raise Invalid(
                f'The {kind} "{name}" is invalid: spec.template.metadata.labels: Invalid value: '
                f"{json.dumps(labels)}: `selector` does not match template `labels`"
            )
        for container in (spec["template"].get("spec") or {}).get("containers") or [None]:
            if not container or not container.get("name") or not container.get("image"):
                raise Invalid(
                    f'The {kind} "{name}" is invalid: spec.template.spec.containers: Required value'
                )
    cni = CNI_DAEMONSETS.get((obj["metadata"].get("namespace", ""), name)) if kind == "DaemonSet" else None
    if cni and st["cni"] not in (None, cni):
        raise Invalid(
            f"k8slab: {cni} applied on a cluster that already runs {st['cni']}: install exactly one CNI"
        )
    if cni:
        _check_pod_network(st, obj, cni)
    if kind == "ConfigMap" and name == "kube-flannel-cfg":
        network = json.loads(obj["data"]["net-conf.json"]).get("Network")
        _same_network(st, network, "flannel net-conf.json Network")


def _check_pod_network(st: dict[str, Any], ds: dict[str, Any], cni: str) -> None:
    if cni != "calico":
        return
    for container in ds["spec"]["template"]["spec"]["containers"]:
        for env in container.get("env") or []:
            if env.get("name") == "CALICO_IPV4POOL_CIDR":
                _same_network(st, env.get("value"), "calico CALICO_IPV4POOL_CIDR")


def _same_network(st: dict[str, Any], network: Any, what: str) -> None:
    pod_subnet = st["config"].get("podSubnet") or ""
    if not pod_subnet:
        raise Invalid(
            f"k8slab: {what} is {network} but kubeadm ran without networking.podSubnet: no node "
            "gets a pod CIDR (flannel: 'pod cidr not assigned')"
        )
    try:
        same = ipaddress.ip_network(str(network)) == ipaddress.ip_network(pod_subnet)
    except ValueError:
        same = False
    if not same:
        raise Invalid(
            f"k8slab: {what} {network} differs from the cluster's podSubnet {pod_subnet}: pods "
            "would get addresses outside the cluster CIDR"
        )


def _allocate_node_ports(st: dict[str, Any], svc: dict[str, Any]) -> None:
    if (svc.get("spec") or {}).get("type") != "NodePort":
        return
    used = {
        p.get("nodePort")
        for o in st["objects"].values()
        if o["kind"] == "Service" and o is not svc
        for p in o["spec"].get("ports", [])
    }
    candidate = 30000 + secrets.randbelow(2768)
    for port in svc["spec"]["ports"]:
        while not port.get("nodePort"):
            if candidate not in used:
                port["nodePort"] = candidate
                used.add(candidate)
            candidate = 30000 + (candidate - 30000 + 1) % 2768


def find(st: dict[str, Any], kind: str, namespace: str, name: str) -> dict[str, Any]:
    obj = st["objects"].get(key(kind, "" if kind in CLUSTER_SCOPED else namespace, name))
    if obj is None:
        raise Invalid(
            f'Error from server (NotFound): {PLURAL.get(kind, kind.lower() + "s")} "{name}" not found', 404
        )
    return obj


def delete_namespace(st: dict[str, Any], name: str) -> None:
    find(st, "Namespace", "", name)
    if name in DEFAULT_NAMESPACES:
        raise Invalid(f'namespaces "{name}" is forbidden: this namespace may not be deleted', 403)
    for k in [k for k in st["objects"] if k.split("/")[1] == name or k == key("Namespace", "", name)]:
        del st["objects"][k]
        st["created"].pop(k, None)


def listed(st: dict[str, Any], kind: str, namespace: str | None) -> list[dict[str, Any]]:
    return [
        o
        for k, o in sorted(st["objects"].items())
        if k.split("/")[0] == kind and (namespace is None or k.split("/")[1] == namespace)
    ]
