"""Pods the lab's cluster would run: static control-plane pods, kube-proxy and CNI DaemonSets on every
node, Deployment replicas on the nodes that are Ready and whose taints they tolerate. A Deployment is
available a moment after it was created when its image can be pulled."""

from __future__ import annotations

import time
from typing import Any

from . import cluster, images

START_DELAY = 2.0  # seconds from creation to a running, ready pod


def tolerated(obj: dict[str, Any], taints: list[dict[str, str]]) -> bool:
    tolerations = obj["spec"]["template"]["spec"].get("tolerations") or []

    def ok(taint: dict[str, str]) -> bool:
        return any(
            (t.get("operator") == "Exists" and not t.get("key")) or t.get("key") == taint["key"]
            for t in tolerations
            if t.get("effect") in (None, taint["effect"])
        )

    return all(ok(t) for t in taints)


def schedulable(st: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    return [
        n
        for n, node in sorted(st["nodes"].items())
        if cluster.ready(st, n)[0] and tolerated(obj, node["taints"])
    ]


def deployment_status(st: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    obj = cluster.find(st, "Deployment", namespace, name)
    want = int(obj["spec"].get("replicas", 1))
    nodes = schedulable(st, obj)
    age = time.time() - st["created"].get(cluster.key("Deployment", namespace, name), 0)
    problem = images.pod_problem(obj)
    if problem:
        reason = f"ImagePullBackOff: {problem}"
    elif not nodes:
        reason = "0/{} nodes are available: no Ready node tolerates the pods".format(len(st["nodes"]))
    elif age < START_DELAY:
        reason = "ContainerCreating"
    else:
        reason = ""
    ready = 0 if reason else want
    return {
        "replicas": want,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "updatedReplicas": want,
        "reason": reason,
        "nodes": nodes,
    }


def pods(st: dict[str, Any], namespace: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, node in sorted(st["nodes"].items()):
        if node["control_plane"]:
            for comp in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
                out.append(_pod("kube-system", f"{comp}-{name}", name, node["ip"], "Running"))
        out.append(_pod("kube-system", f"kube-proxy-{name[-5:]}", name, node["ip"], "Running"))
    for ds in cluster.listed(st, "DaemonSet", None):
        phase = "ImagePullBackOff" if images.pod_problem(ds) else "Running"
        for name, node in sorted(st["nodes"].items()):
            pod_name = f"{ds['metadata']['name']}-{name[-5:]}"
            out.append(_pod(ds["metadata"]["namespace"], pod_name, name, node["ip"], phase))
    any_ready = any(cluster.ready(st, n)[0] for n in st["nodes"])
    for i in range(2):
        out.append(
            _pod("kube-system", f"coredns-7c65d6cfc9-{i}", "", "", "Running" if any_ready else "Pending")
        )
    for dep in cluster.listed(st, "Deployment", None):
        ns, dname = dep["metadata"]["namespace"], dep["metadata"]["name"]
        status = deployment_status(st, ns, dname)
        for i in range(status["replicas"]):
            node = status["nodes"][i % len(status["nodes"])] if status["nodes"] else ""
            phase = "Running" if not status["reason"] else status["reason"].split(":")[0]
            out.append(_pod(ns, f"{dname}-5d9c7f-{i}", node, "", phase))
    return [p for p in out if namespace is None or p["namespace"] == namespace]


def _pod(namespace: str, name: str, node: str, ip: str, phase: str) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "name": name,
        "node": node or "<none>",
        "ip": ip or "<none>",
        "status": phase,
        "ready": "1/1" if phase == "Running" else "0/1",
    }


def node_ports(st: dict[str, Any]) -> list[dict[str, Any]]:
    """NodePort services with whether they have ready endpoints (a Deployment matching the selector)."""
    out = []
    for svc in cluster.listed(st, "Service", None):
        if svc["spec"].get("type") != "NodePort":
            continue
        ns = svc["metadata"]["namespace"]
        selector = svc["spec"].get("selector") or {}
        ready = any(
            all(dep["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())
            and deployment_status(st, ns, dep["metadata"]["name"])["readyReplicas"] > 0
            for dep in cluster.listed(st, "Deployment", ns)
        )
        for port in svc["spec"]["ports"]:
            out.append(
                {
                    "namespace": ns,
                    "name": svc["metadata"]["name"],
                    "nodePort": port["nodePort"],
                    "ready": ready,
                }
            )
    return out
